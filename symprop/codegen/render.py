"""Render plans into Python source with Jinja2 templates."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from symprop.codegen.check import check_module
from symprop.codegen.plan import NetworkPlan, jit_options

TEMPLATE_DIR = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - the output is Python source, not HTML
    )


TEMPLATES = {"cpu": "network.py.j2", "cuda": "network_cuda.py.j2"}


def render_network(plan: NetworkPlan, version: str, target: str = "cpu",
                   cublas: bool = False, exported: bool = False) -> str:
    """The source of the network module for ``plan`` on ``target``, checked to hold only
    what symprop generates (symprop.codegen.check) before anything writes, imports or
    exports it. ``cublas`` (cuda): products through CuPy's cuBLAS where CuPy imports.
    ``exported``: a usage section in its docstring (how to call it without symprop)."""
    template = environment().get_template(TEMPLATES[target])
    source = template.render(plan=plan, jit=jit_options(plan.float_type), version=version,
                             cublas=cublas, exported=exported)
    check_module(source, f"the generated {target} module of {plan.architecture}")
    return source


def render_activations(activations, float_type: str, version: str) -> str:
    """The source of a module of elementwise kernels for ``activations`` (ActivationCode),
    checked as network modules are."""
    template = environment().get_template("activations.py.j2")
    source = template.render(activations=activations, float_type=float_type,
                             jit=jit_options(float_type), version=version)
    check_module(source, "the generated activation kernels")
    return source


def render_support(version: str) -> str:
    """The source of the module of network-independent training helpers (support.py.j2),
    checked as network modules are."""
    source = environment().get_template("support.py.j2").render(version=version)
    check_module(source, "the generated training helpers")
    return source
