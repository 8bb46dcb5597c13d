"""The templates compiled ahead (symprop/codegen/template_modules.py): current, used, and
rendering exactly what the templates themselves render; stale ones are never used."""

from __future__ import annotations

import jinja2
import pytest

from symprop.blocks import parse_network
from symprop.codegen import template_modules
from symprop.codegen.build import network_source
from symprop.codegen.render import environment


def test_the_compiled_templates_are_current():
    assert template_modules.compiled_are_current(), (
        "a template changed since symprop/codegen/templates_compiled/ was made: run "
        "python -m symprop.codegen.template_modules")


def test_this_process_renders_from_them():
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
    """A manifest whose hashes are not the templates' (one was edited), or none at all:
    the templates themselves."""
    stale = tmp_path / "sources.json"
    stale.write_text('{"network.py.j2": "0"}', encoding="utf-8")
    monkeypatch.setattr(template_modules, "MANIFEST", stale)
    assert not template_modules.compiled_are_current()
    assert isinstance(template_modules.template_loader(), jinja2.FileSystemLoader)
    monkeypatch.setattr(template_modules, "MANIFEST", tmp_path / "missing.json")
    assert isinstance(template_modules.template_loader(), jinja2.FileSystemLoader)
