"""symprop's Jinja templates, compiled ahead of time.

Jinja parses a template and generates Python from it the first time a process renders it:
90 ms for the four templates a dense network's module needs, a thirtieth of a first
``symprop train``. The modules Jinja makes of them (``Environment.compile_templates``) are
kept in ``templates_compiled/`` beside a manifest of the SHA-256 of each template they came
from and the Jinja version that made them (its compiled code calls Jinja's runtime). A process
loads them only while every template still has its manifest's hash and Jinja that version
(reading and hashing the templates takes well under a millisecond); otherwise, as while a
template is being edited, it compiles the templates as before. They are symprop's own
source, committed with it: nothing in them comes from a user or a cache.

After editing a template: ``python -m symprop.codegen.template_modules`` (the test suite fails
while they are stale: tests/test_template_modules.py).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).parent / "templates"
COMPILED_DIR = Path(__file__).parent / "templates_compiled"
MANIFEST = COMPILED_DIR / "sources.json"

# How symprop's templates are read and rendered (the compiled modules hold their effect).
OPTIONS = {
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
    "autoescape": False,  # the output is Python source, not HTML
}


def template_hashes() -> dict[str, str]:
    """Each template's name and the SHA-256 of its source."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(TEMPLATE_DIR.glob("*.j2"))}


def manifest() -> dict:
    """What templates_compiled/ must have been made from to be used now (Jinja's version
    from its package metadata: ``jinja2.__version__`` is deprecated)."""
    return {"jinja2": importlib.metadata.version("jinja2"), "templates": template_hashes()}


def compiled_are_current() -> bool:
    """Whether templates_compiled/ was made from the templates as they are now, by this
    version of Jinja. Anything unreadable or missing: no."""
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8")) == manifest()
    except (OSError, ValueError, importlib.metadata.PackageNotFoundError):
        return False


def template_loader() -> jinja2.BaseLoader:
    """The compiled modules where they are current (the sources behind them for any
    template they lack), else the templates themselves."""
    sources = jinja2.FileSystemLoader(str(TEMPLATE_DIR))
    if not compiled_are_current():
        return sources
    return jinja2.ChoiceLoader([jinja2.ModuleLoader(str(COMPILED_DIR)), sources])


def compile_templates() -> list[str]:
    """Write templates_compiled/ afresh; returns the templates compiled."""
    COMPILED_DIR.mkdir(exist_ok=True)
    for old in COMPILED_DIR.glob("tmpl_*.py"):
        old.unlink()
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                                     **OPTIONS)  # noqa: S701 - Python source, not HTML
    made_from = manifest()
    hashes = made_from["templates"]
    environment.compile_templates(str(COMPILED_DIR), zip=None, ignore_errors=False,
                                  filter_func=lambda name: name in hashes)
    MANIFEST.write_text(json.dumps(made_from, indent=1, sort_keys=True) + "\n",
                        encoding="utf-8")
    return sorted(hashes)


if __name__ == "__main__":
    names = compile_templates()
    print(f"{COMPILED_DIR}: {len(names)} templates compiled")
