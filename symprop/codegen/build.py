"""Build (or load from the cache) the generated module of a network."""

from __future__ import annotations

import contextlib
from types import ModuleType

from symprop.architecture import LayerSpec
from symprop.catalog import resolve_activation, resolve_loss
from symprop.codegen.cache import cache_key, load_module

# Bump when a template changes what it generates: part of every cache key. (Kept here, not
# in render.py, so a warm start builds its key without importing SymPy and Jinja2.)
TEMPLATE_VERSION = "7"


def layer_key(layer: LayerSpec) -> tuple:
    """What of a layer shapes its code: widths, activation and its hyperparameter names. A
    formula's hyperparameter values count too: which derivative form a formula gets (from a
    or from z) can depend on them. Built-ins validate their ranges, so values do not."""
    builtin = resolve_activation(layer.activation, dict(layer.hyper)) is not None
    hyper = tuple(name for name, _ in sorted(layer.hyper)) if builtin else tuple(
        sorted(layer.hyper))
    return (layer.n_in, layer.n_out, layer.activation, hyper, layer.name)


def node_key(node) -> tuple:
    """A layer_key for a dense layer; a normalization's kind, width and constants (written
    into the code); a residual block's nodes'."""
    from symprop.blocks import NormSpec, ResidualSpec

    if isinstance(node, NormSpec):
        return ("norm", node.kind, node.n, node.eps, node.momentum)
    if isinstance(node, ResidualSpec):
        return ("residual", tuple(node_key(inner) for inner in node.body))
    return layer_key(node)


def optimizer_structure(name: str, options: dict) -> dict:
    """The options that change the generated code (values of lr etc. are arguments)."""
    keep = {}
    if name == "sgd":
        keep["momentum"] = bool(options.get("momentum"))
        keep["nesterov"] = bool(options.get("nesterov"))
    keep["weight_decay"] = bool(options.get("weight_decay"))
    return keep


def network_source(layers: list[LayerSpec], loss: str, optimizer: str = "sgd",
                   optimizer_options: dict | None = None, dtype: str = "float32",
                   matmul: str = "auto", version: str = "0",
                   dropout: list[bool] | None = None, direct_blas: bool = False,
                   target: str = "cpu", cublas: bool = False, split_batches: bool = False,
                   exported: bool = False, prefetch_rows: bool = False) -> str:
    """The generated source, without touching the cache (for export and inspection).

    ``direct_blas``: products call numpy's CBLAS through symprop.codegen.blas (what cached
    modules do where it is found) instead of ``np.dot`` (what standalone modules need).
    ``target`` "cuda": the GPU module; ``cublas``: its products use CuPy where it imports
    (cached modules), else the generated kernel only (standalone modules).
    ``split_batches``: give mid-size networks the data-parallel training path (cpu; cached
    modules where Numba has threads; exported ones stay serial: they import nothing of
    symprop, whose split_support runs the split path's threads).
    ``exported``: the module's docstring says how to call it without symprop.
    ``prefetch_rows``: run() prefetches the next batch's rows through symprop (cached cpu
    modules; a standalone module imports nothing of symprop)."""
    from symprop.codegen.plan import make_plan
    from symprop.codegen.printed import update_code_for
    from symprop.codegen.render import render_network

    update = update_code_for(optimizer, optimizer_structure(optimizer, optimizer_options or {}),
                             dtype)
    with generation_budget(layers, loss):
        plan = make_plan(layers, loss, update, dtype, matmul, dropout, direct_blas,
                         split_batches, prefetch_rows and target == "cpu")
    return render_network(plan, version, target, cublas, exported)


def generation_budget(layers: list[LayerSpec], loss: str):
    """One time budget over deriving and printing a module's formulas: a derivation's own
    budget for each formula (activations and loss), as the printing of each is bounded on
    its own but ran several times a layer. Built-ins alone take no budget (their code comes
    from the printed table, without SymPy)."""
    from symprop.blocks import dense_layers

    formulas = sum(1 for layer in dense_layers(layers)
                   if layer.name is not None
                   or resolve_activation(layer.activation, dict(layer.hyper)) is None)
    formulas += resolve_loss(loss) is None
    if not formulas:
        return contextlib.nullcontext()
    from symprop.derive.limits import BUDGET_SECONDS, time_budget

    return time_budget("generating the kernels of the network's formulas",
                       BUDGET_SECONDS * formulas)


def build_network_module(layers: list[LayerSpec], loss: str, optimizer: str = "sgd",
                         optimizer_options: dict | None = None, dtype: str = "float32",
                         matmul: str = "auto", dropout: list[bool] | None = None,
                         target: str = "cpu") -> ModuleType:
    """The cached module of a network; ``dropout`` flags the layers that have dropout."""
    from symprop import __version__

    structure = optimizer_structure(optimizer, optimizer_options or {})
    if target == "cuda":
        blas = None
    else:
        from symprop.codegen.blas import binding

        blas = binding()
    # The split path costs compile time (parallel functions): not where Numba gets one
    # thread (NUMBA_NUM_THREADS=1, one core), which could never use it.
    split = target == "cpu" and numba_threads() > 1
    key = cache_key("network", TEMPLATE_VERSION, __version__, [node_key(x) for x in layers],
                    loss, optimizer, sorted(structure.items()), dtype, matmul, target,
                    tuple(bool(d) for d in dropout or ()), blas, split)
    return load_module(key, lambda: network_source(
        layers, loss, optimizer, optimizer_options, dtype, matmul, __version__, dropout,
        direct_blas=blas is not None, target=target, cublas=target == "cuda",
        split_batches=split, prefetch_rows=True),
        split=_shared_kernels(blas) if target == "cpu" else None)


def _shared_kernels(blas: str | None):
    """How a CPU module leaves its shared kernels to library modules: each named by its
    text and the BLAS bound (their machine code calls it), symprop.codegen.kernel_library."""
    from symprop import __version__
    from symprop.codegen.kernel_library import split_source

    return lambda source: split_source(
        source, lambda text: cache_key("kernel", TEMPLATE_VERSION, __version__, blas, text))


def numba_threads() -> int:
    """Numba's thread count ceiling (NUMBA_NUM_THREADS or the core count), read without
    starting its thread pool."""
    from numba.core import config

    return int(config.NUMBA_NUM_THREADS)


def activations_source(specs: list[str], dtype: str = "float32", version: str = "0") -> str:
    from symprop.codegen.printed import activation_code_for
    from symprop.codegen.render import render_activations

    codes, seen = [], set()
    for spec in specs:
        code = activation_code_for(spec, dtype)
        if code.name not in seen:
            seen.add(code.name)
            codes.append(code)
    return render_activations(codes, dtype, version)


def build_activation_module(specs: list[str], dtype: str = "float32") -> ModuleType:
    """Elementwise kernels for the given activations (names or formulas), cached."""
    from symprop import __version__

    key = cache_key("activations", TEMPLATE_VERSION, __version__, tuple(specs), dtype, "cpu")
    return load_module(key, lambda: activations_source(specs, dtype, __version__))


def build_support_module() -> ModuleType:
    """The cached module of training helpers every network shares (the epochs' row order):
    compiled once per machine, not once per network."""
    from symprop import __version__

    return load_module(support_key(), lambda: _support_source(__version__))


def support_key() -> str:
    """The support module's cache key (its file is ``symprop_<key>.py``)."""
    from symprop import __version__

    return cache_key("support", TEMPLATE_VERSION, __version__)


def _support_source(version: str) -> str:
    from symprop.codegen.render import render_support

    return render_support(version)
