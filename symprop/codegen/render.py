"""Render plans into Python source with Jinja2 templates."""

from __future__ import annotations

from functools import cache

import jinja2

from symprop.codegen.check import check_module
from symprop.codegen.plan import NetworkPlan, jit_options
from symprop.codegen.template_modules import OPTIONS, template_loader


@cache
def environment() -> jinja2.Environment:
    """symprop's templates, compiled ahead where that is current (template_modules)."""
    return jinja2.Environment(loader=template_loader(), **OPTIONS)  # noqa: S701


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
