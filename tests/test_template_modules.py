"""The templates compiled ahead (symprop/codegen/template_modules.py): current, used, and
rendering exactly what the templates themselves render; stale ones are never used."""

from __future__ import annotations

import json

import jinja2
import pytest

from symprop.blocks import parse_network
from symprop.codegen import template_modules
from symprop.codegen.build import network_source
from symprop.codegen.render import environment


def kept_manifest() -> dict:
    return json.loads(template_modules.MANIFEST.read_text(encoding="utf-8"))


def test_the_compiled_templates_are_current():
    assert kept_manifest()["templates"] == template_modules.template_hashes(), (
        "a template changed since symprop/codegen/templates_compiled/ was made: run "
        "python -m symprop.codegen.template_modules")


def test_this_process_renders_from_them():
    made_by, installed = kept_manifest()["jinja2"], template_modules.manifest()["jinja2"]
    if made_by != installed:  # another Jinja's runtime: not used, and no error
        assert isinstance(environment().loader, jinja2.FileSystemLoader)
        pytest.skip(f"compiled by Jinja {made_by}, this is {installed}")
    loader = environment().loader
    assert isinstance(loader, jinja2.ChoiceLoader)
    assert isinstance(loader.loaders[0], jinja2.ModuleLoader)


@pytest.mark.parametrize("arch, loss, optimizer", [
    ("4-8:relu-3:softmax", "ce", "adam"),
    ("64-128:relu-bn-[128:relu-128:relu]-10:softmax", "ce", "sgd"),
    ("3-5:tanh-ln-[5:relu]-1:linear", "mse", "rmsprop"),
])
@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_they_render_what_the_templates_render(monkeypatch, arch, loss, optimizer, target):
    specs = parse_network(arch)
    compiled = network_source(specs, loss, optimizer, target=target,
                              split_batches=target == "cpu")
    environment.cache_clear()
    monkeypatch.setattr(template_modules, "compiled_are_current", lambda: False)
    try:
        assert isinstance(environment().loader, jinja2.FileSystemLoader)
        from_sources = network_source(specs, loss, optimizer, target=target,
                                      split_batches=target == "cpu")
    finally:
        environment.cache_clear()
    assert compiled == from_sources


def test_a_stale_manifest_is_not_used(monkeypatch, tmp_path):
    """A manifest whose hashes are not the templates' (one was edited), made by another
    Jinja (whose runtime the compiled code calls), or none at all: the templates
    themselves."""
    current = template_modules.manifest()
    stale = tmp_path / "sources.json"
    monkeypatch.setattr(template_modules, "MANIFEST", stale)
    stale.write_text(json.dumps(current), encoding="utf-8")
    assert template_modules.compiled_are_current()  # the same content elsewhere: current
    edited = {**current, "templates": {**current["templates"], "network.py.j2": "0"}}
    other_jinja = {**current, "jinja2": "2.11.3"}
    for manifest in (edited, other_jinja, current["templates"]):
        stale.write_text(json.dumps(manifest), encoding="utf-8")
        assert not template_modules.compiled_are_current()
        assert isinstance(template_modules.template_loader(), jinja2.FileSystemLoader)
    monkeypatch.setattr(template_modules, "MANIFEST", tmp_path / "missing.json")
    assert isinstance(template_modules.template_loader(), jinja2.FileSystemLoader)
