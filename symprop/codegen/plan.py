"""The plan of a network module: everything the templates need, decided in Python.

A plan fixes the architecture, dtype, loss, optimizer and the matrix-product strategy of each
layer (generated loops for small layers, BLAS where the sizes pay for the call), and names
every argument of the generated functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from symprop.architecture import LayerSpec, check_chain
from symprop.blocks import check_nodes, dense_layers, format_nodes
from symprop.codegen.code import ActivationCode, LossCode, UpdateCode
from symprop.codegen.fused_plan import FusedEpoch
from symprop.codegen.graph import (
    AddPlan,
    Gradients,
    NormPlan,
    Step,
    backward_steps,
    consumers,
    fused_below,
    identity_delta_kernel,
    param_shapes,
    plan_nodes,
    slope_kernel,
    slope_suffix,
)
from symprop.codegen.printed import activation_code_for, loss_code_for
from symprop.codegen.split import SplitPath
from symprop.errors import SympropError

# Numba calls BLAS directly (no Python in between), so BLAS wins from small products on:
# measured inside Numba on this project's machine, float32, 32 rows: a 20x32 layer 1.9 us
# against 3.5 us for the generated loops, 64x10 3.3 us against 26 us. Only layers with fewer
# outputs than a SIMD vector (the notes' single sigmoid output) keep the generated
# dot-product loops, which are as fast there (0.34 us against 0.42 us for 32x1).
BLAS_THRESHOLD = 128
MATMUL_CHOICES = ("auto", "loops", "blas")
NARROW_WIDTH = 8  # float32 lanes of an AVX2 register
FLOAT_TYPES = ("float32", "float64")

# OpenBLAS's small-matrix kernel for the delta product D @ W^T (row-major, W transposed)
# runs at half the speed of D @ WT with a stored WT = W^T; refreshing WT after each update
# (omatcopy) costs far less. Measured inside Numba, float32, 32 rows (us): 32 x 32 weights
# 1.07 against 0.61, WT refreshed in 0.07; 16 x 16 0.38 against 0.18 (0.02); 64 x 32 2.47
# against 1.19 (0.14); 64 rows, 64 x 128: 14.4 against 9.3 (0.9). Layers in this range of
# weight counts keep such a copy; bigger products leave that kernel (as fast either way).
# Below TRANSPOSE_MIN_INPUTS inputs the transposed product is no slower (8 x 64: 0.41
# against 0.47). Wide ones too: a training step of 32-8-256-1 (batch 32) and 64-8-512-1 took
# the same with and without the copy of the 8-input layer, within the 0.5 us the runs vary.
TRANSPOSE_WEIGHTS = (256, 1 << 15)
TRANSPOSE_MIN_INPUTS = 16

# The update rule that run() may fold into the weight products (steps_in_products), and the
# fewest weights for it: the passes it spares cost a few microseconds a step below, while
# the stepping calls add 0.1-0.15 s to run()'s compile (784-512-512-10: 1.73 against 1.60 s
# on a warm cache), more than 50,000 steps would save there. Measured on one thread against
# the stored gradient: 784-512-512-10 at batch 256 2.99-3.04 against 3.16-3.19 ms a step,
# 784-256-128-10 at batch 128 635-648 against 709-714 us, 784-128-10 at batch 64 208-214
# against 213-215 us.
PLAIN_SGD = [("w_new", "-g*hp_lr + w")]
STEP_IN_PRODUCTS_MIN_WEIGHTS = 1 << 15


@dataclass
class LayerPlan:
    index: int  # 1-based, as in the notes
    n_in: int
    n_out: int
    act: ActivationCode  # hyperparameter names suffixed with the layer (call arguments)
    kernel_act: ActivationCode  # the same, unsuffixed (inside the generic kernels)
    matmul: str  # "loops" | "blas"
    keep_z: bool  # the backward pass (or the loss) reads z, so Z is stored
    dropout: float = 0.0  # 1.0 when this layer's output has dropout (the rate is an argument)
    # The edge into the layer: the buffer it reads, and the dense layer that wrote it (None
    # for the network's input). Templates follow these rather than index arithmetic, so that
    # other nodes (normalizations, residual additions) can sit between dense layers.
    input: str = "XB"
    below: LayerPlan | None = field(default=None, repr=False, compare=False)

    @property
    def variant(self) -> str:
        """How the layer's matrix products run: "blas", "narrow" or "wide" loops."""
        if self.matmul == "blas":
            return "blas"
        return "narrow" if self.narrow else "wide"

    @property
    def width(self) -> int:
        """The output count a narrow layer's kernels have written into their loops (and
        index their flat weights by); 0 where the loops take sizes from the arrays."""
        return self.n_out if self.variant == "narrow" else 0

    @property
    def kernel_variant(self) -> str:
        """The variant as kernel names carry it: narrow kernels are specific to a width."""
        return f"narrow{self.width}" if self.width else self.variant

    @property
    def forward_kernel(self) -> str:
        # Writing z and a to one array through two names would defeat vectorisation (the
        # overlap check fails, so the scalar loop runs): without a stored z, the kernel
        # has no Z argument and activates A in place.
        keeps = "_keep_z" if self.keep_z else ""
        return f"forward_{self.kernel_act.name}_{self.kernel_variant}{keeps}"

    @property
    def weights_arg(self) -> str:
        """What run() passes as W: narrow kernels index the flat view by literal width."""
        return f"{self.W}_flat" if self.width else self.W

    @property
    def z_buffer(self) -> str:
        return f"Z{self.index}" if self.keep_z else f"A{self.index}"

    @property
    def slope_source(self) -> str:
        """The array the derivative of this layer's activation reads."""
        reads_z = not self.act.is_softmax and self.act.backward_from == "z"
        return f"Z{self.index}" if reads_z else f"A{self.index}"

    @property
    def narrow(self) -> bool:
        """Fewer outputs than a SIMD vector holds: the loops use dot products instead of
        row updates (a runtime trip count of 1 would cost a vector loop's overhead)."""
        return self.n_out < NARROW_WIDTH

    @property
    def has_dropout(self) -> bool:
        return self.dropout > 0

    @property
    def output(self) -> str:
        """The array the next layer reads: the dropped-out copy where dropout applies."""
        return f"AD{self.index}" if self.has_dropout else f"A{self.index}"

    @property
    def W(self) -> str:  # noqa: N802 - the notes' name
        return f"W{self.index}"

    @property
    def b(self) -> str:
        return f"b{self.index}"


@dataclass
class Kernel:
    name: str
    act: ActivationCode | None
    variant: str  # "blas" | "narrow" | "wide"
    dropout: bool = False
    width: int = 0  # narrow kernels: the output count of the layer they serve
    keep_z: bool = True  # forward kernels: store z in Z besides a in A
    transposed: bool = False  # delta kernels: W comes as the stored transpose WT
    add: bool = False  # delta kernels: OUT += D @ W^T (a further consumer's share)


@dataclass
class NetworkPlan(SplitPath, FusedEpoch):
    layers: list[LayerPlan]
    loss: LossCode
    update: UpdateCode
    float_type: str
    architecture: str
    loss_name: str
    optimizer_name: str
    dropout: list[float] = field(default_factory=list)
    jit: str = ""  # Numba options of the kernels run() calls (not called from Python)
    gemm: str = ""  # symprop.codegen.blas function for BLAS products; "" means np.dot
    split_batches: bool = True  # allow the data-parallel training path (see shardable)
    prefetch_rows: bool = False  # run() prefetches the next batch's rows (imports symprop)
    # Every node in execution order where the network has more than dense layers
    # (symprop.codegen.graph); empty for a chain of dense layers, whose nodes are `layers`.
    blocks: list = field(default_factory=list)

    @property
    def nodes(self) -> list:
        return self.blocks or self.layers

    @property
    def has_blocks(self) -> bool:
        return bool(self.blocks)

    @property
    def norms(self) -> list:
        return [node for node in self.blocks if isinstance(node, NormPlan)]

    @property
    def batchnorms(self) -> list:
        return [node for node in self.norms if node.kind == "batchnorm"]

    @cached_property
    def _graph(self) -> tuple[list[Step], Gradients]:
        """The backward steps and their gradient buffers, planned once (the templates and
        the kernel and buffer lists all read them)."""
        return backward_steps(self.blocks)

    @property
    def backward_steps(self) -> list[Step]:
        return self._graph[0]

    @property
    def persistent(self) -> list[str]:
        """State kept across batches and fits besides the parameters: batch normalization's
        running mean and variance."""
        return [name for node in self.norms for name in node.running]

    @property
    def slope_kernels(self) -> list[Kernel]:
        """D = G * f' for the dense layers whose gradient comes from other nodes."""
        return _unique(Kernel(slope_kernel(step.node), step.node.kernel_act, "slope",
                              step.node.has_dropout)
                       for step in self.backward_steps if step.kind == "slope")

    @property
    def norm_slope_kernels(self) -> list[Kernel]:
        """Normalization backward kernels that go on through a dense layer's slope (name: the
        slope's part of the kernel names, graph.slope_suffix; variant: the normalization's
        kind), one per kind and slope."""
        found = {}
        for step in self.backward_steps:
            if step.slope is not None:
                kernel = Kernel(slope_suffix(step.slope), step.slope.kernel_act, step.node.kind,
                                step.slope.has_dropout)
                found.setdefault((kernel.variant, kernel.name), kernel)
        return list(found.values())

    @property
    def plain_norm_kinds(self) -> set[str]:
        """The normalization kinds with a backward step whose input's gradient is written,
        added or not needed (not through a slope): those need the plain kernels."""
        return {step.node.kind for step in self.backward_steps
                if step.kind == "norm" and step.slope is None}

    @property
    def forward_kernels(self) -> list[Kernel]:
        return _unique(Kernel(layer.forward_kernel, layer.kernel_act, layer.variant,
                              width=layer.width, keep_z=layer.keep_z)
                       for layer in self.layers)

    def delta_kernel(self, above: LayerPlan) -> str:
        below = above.below
        drop = "_dropout" if below.has_dropout else ""
        copy = "_t" if self.keeps_transpose(above) else ""
        return f"delta_{below.kernel_act.name}_{above.kernel_variant}{copy}{drop}"

    @property
    def delta_kernels(self) -> list[Kernel]:
        fused = [Kernel(self.delta_kernel(above), above.below.kernel_act,
                        above.variant, above.below.has_dropout,
                        above.width, transposed=self.keeps_transpose(above))
                 for above in self.layers
                 if above.below is not None and not self.grad_delta(above)]
        into = [Kernel(self.identity_delta_kernel(step), self.identity, step.node.variant,
                       width=step.node.width, add=bool(step.scratch),
                       transposed=self.keeps_transpose(step.node))
                for step in self.backward_steps if step.kind == "dense" and step.target]
        return _unique(fused + into)

    def identity_delta_kernel(self, step: Step) -> str:
        """The kernel of a dense step that writes (or adds) D @ W^T alone."""
        copy = "_t" if self.keeps_transpose(step.node) else ""
        return identity_delta_kernel(step.node, bool(step.scratch)) + copy

    @cached_property
    def _identity_deltas(self) -> set[int]:
        """Dense layers whose input's gradient a delta kernel of its own writes (not fused)."""
        return {step.node.index for step in self.backward_steps
                if step.kind == "dense" and step.target}

    @property
    def identity(self) -> ActivationCode:
        return activation_code_for("identity", self.float_type)

    def keeps_transpose(self, layer: LayerPlan) -> bool:
        """Whether run() keeps WT = W^T of this layer for the delta product below it (see
        TRANSPOSE_WEIGHTS; only with OpenBLAS bound, whose omatcopy refreshes it)."""
        low, high = TRANSPOSE_WEIGHTS
        below = layer.below is not None or layer.index in self._identity_deltas
        return (bool(self.gemm) and below and layer.variant == "blas"
                and low <= layer.n_in * layer.n_out <= high
                and layer.n_in >= TRANSPOSE_MIN_INPUTS)

    @property
    def transposed(self) -> list[LayerPlan]:
        return [layer for layer in self.layers if self.keeps_transpose(layer)]

    @property
    def transposed_floats(self) -> int:
        """Elements of all transposed weight copies (each split-batch thread keeps its own)."""
        return sum(layer.n_in * layer.n_out for layer in self.transposed)

    @property
    def grad_kernels(self) -> list[Kernel]:
        return _unique(Kernel(f"grad_{layer.kernel_variant}", None, layer.variant,
                              width=layer.width)
                       for layer in sorted(self.layers, key=lambda x: x.kernel_variant)
                       if not self.grad_delta(layer))

    def grad_delta(self, layer: LayerPlan) -> str:
        """The kernel that computes a narrow layer's weight gradient and the delta of the
        dense layer below it in one pass over the rows of its input (both read them; the
        gradient's sums then overlap the delta's work): "" where the two kernels run
        apart (a wider layer, the first layer, a softmax below, whose delta takes a second
        pass, and the networks with blocks, whose backward steps come from their graph).
        The same arithmetic in the same order as the two kernels (the weights trained are
        the same to the bit); tiny's 20-32-1 network about 3% faster a step, and a cold start
        compiles one kernel fewer (benchmarks/README.md)."""
        below = layer.below
        if (layer.variant != "narrow" or below is None or below.kernel_act.is_softmax
                or self.has_blocks):
            return ""
        drop = "_dropout" if below.has_dropout else ""
        return f"grad_delta_{below.kernel_act.name}_{layer.kernel_variant}{drop}"

    @property
    def grad_delta_kernels(self) -> list[Kernel]:
        return _unique(Kernel(self.grad_delta(layer), layer.below.kernel_act, layer.variant,
                              layer.below.has_dropout, layer.width)
                       for layer in self.layers if self.grad_delta(layer))

    @property
    def params(self) -> list[str]:
        return [name for node in self.nodes for name, _ in param_shapes(node)]

    @property
    def param_sizes(self) -> list[tuple[str, int]]:
        """(name, element count) of every parameter tensor, in argument order."""
        return [(name, size) for name, _, size, _ in self.param_layout]

    @property
    def param_count(self) -> int:
        """Elements of all parameter tensors together."""
        return sum(size for _, size in self.param_sizes)

    @property
    def grads(self) -> list[str]:
        return ["d" + p for p in self.params]

    @property
    def states(self) -> list[str]:
        return [f"{s}_{p}" for p in self.params for s in self.update.state]

    @property
    def activation_hyper(self) -> list[str]:
        return [h for layer in self.layers for h in layer.act.hyper]

    @property
    def model_hyper(self) -> list[str]:
        """Hyperparameters of the forward pass and loss (activations, then loss)."""
        return self.activation_hyper + self.loss.hyper

    @property
    def dropout_args(self) -> list[str]:
        return [f"p_drop{layer.index}" for layer in self.layers if layer.has_dropout]

    def buffer_shapes(self, rows: str) -> list[tuple[str, str, str]]:
        """(name, shape code, fill) of every per-batch buffer, for ``rows`` rows."""
        return [(name, f"({rows}, {width})", fill) for name, width, fill in self.buffers]

    @property
    def buffers(self) -> list[tuple[str, int, str]]:
        """(name, width, fill) of every per-batch buffer (a row per batch row). Dropout
        masks start as ones: outside training (gradients, evaluation) nothing draws them,
        and the backward pass still multiplies by them."""
        buffers = []
        for layer in self.layers:
            index, width = layer.index, layer.n_out
            buffers.append((f"A{index}", width, "empty"))
            if layer.keep_z:
                buffers.append((f"Z{index}", width, "empty"))
            if layer.has_dropout:
                buffers.append((f"M{index}", width, "ones"))
                buffers.append((f"AD{index}", width, "empty"))
            buffers.append((f"D{index}", width, "empty"))
        if self.blocks:
            for node in self.blocks:
                if isinstance(node, NormPlan | AddPlan):
                    buffers += node.row_buffers
            grads = self._graph[1]
            buffers += [(name, width, "empty") for name, width in grads.own + grads.sinks]
        return buffers

    def scratch_shapes(self, rows: str) -> list[tuple[str, str, str]]:
        """Buffers for the gradient contributions that are added to another's (the CUDA
        module's; the CPU kernels add them in the same pass)."""
        return [(name, f"({rows}, {width})", "empty") for name, width in self._graph[1].scratch]

    @property
    def gemm_step(self) -> str:
        """The BLAS product that steps a weight matrix (symprop.codegen.blas.gemm_step_*)
        where run() trains by stepping inside the weight products; else ""."""
        return self.gemm.replace("gemm_", "gemm_step_") if self.steps_in_products else ""

    @property
    def steps_in_products(self) -> bool:
        """Whether run()'s training (without clipping) steps each layer's weights inside its
        gradient product (W -= lr inp^T D as BLAS's alpha and beta) instead of storing the
        gradient and updating after: only for the optimizer rule w - lr g exactly (plain
        SGD), where every layer multiplies by BLAS, nothing but dense layers has parameters
        and the weights are at least STEP_IN_PRODUCTS_MIN_WEIGHTS. It spares the zeroing BLAS
        does of a product's output, the gradient's store and the update's pass over it."""
        update = self.update
        return (bool(self.gemm) and not self.has_blocks and not update.state
                and not update.invariant and not update.needs_step
                and update.lines == PLAIN_SGD
                and all(layer.variant == "blas" for layer in self.layers)
                and sum(layer.n_in * layer.n_out for layer in self.layers)
                >= STEP_IN_PRODUCTS_MIN_WEIGHTS)

    @property
    def gemm_add(self) -> str:
        """The BLAS product that adds (beta = 1), where an identity delta kernel adds."""
        adds = any(k.add and k.variant == "blas" for k in self.delta_kernels)
        return self.gemm.replace("gemm_", "gemm_add_") if adds and self.gemm else ""

    def unit_buffer_shapes(self) -> list[tuple[str, str, str]]:
        """(name, shape code, fill) of the per-unit work arrays (batch statistics)."""
        return [(name, f"({width},)", "empty") for node in self.norms
                for name, width in node.unit_buffers]

    @property
    def param_layout(self) -> list[tuple[str, int, int, str]]:
        """(name, offset, size, shape code) of each parameter tensor in one flat row."""
        layout, offset = [], 0
        for node in self.nodes:
            for name, shape in param_shapes(node):
                size = shape[0] * (shape[1] if len(shape) > 1 else 1)
                code = f"({shape[0]}, {shape[1]})" if len(shape) > 1 else f"({shape[0]},)"
                layout.append((name, offset, size, code))
                offset += size
        return layout

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    @cached_property
    def prefetch(self) -> dict[str, object] | None:
        """What run() prefetches of the next batch (symprop.codegen.prefetch): the columns
        of X's and Y's rows, and the rows at most; None where the module may not import
        symprop (exported, standalone)."""
        if not self.prefetch_rows:
            return None
        from symprop.codegen.prefetch import row_columns, rows_ahead

        x, y = row_columns(self.n_in, self.line_floats), row_columns(self.n_out, self.line_floats)
        return {"x": x, "y": y, "rows": rows_ahead(len(x) + len(y))}

    @property
    def score_kind(self) -> str:
        """What a training batch counts for fit's running metrics (the module's
        BATCH_SCORES): "argmax" (ce: rows whose largest output is the target's largest),
        "threshold" (bce: outputs on their target's side of 0.5) or "errors" (any other
        loss, a regression's: summed absolute and squared errors)."""
        return {"ce": "argmax", "bce": "threshold"}.get(self.loss_name, "errors")

    @property
    def units_scale(self) -> int:
        """Units the loss mean runs over per sample (mse, bce: all outputs; ce: 1)."""
        return self.n_out if self.loss.per_sample_units else 1


def make_plan(layers: list[LayerSpec], loss: str, update: UpdateCode,
              float_type: str = "float32", matmul: str = "auto",
              dropout: list[float] | None = None, direct_blas: bool = False,
              split_batches: bool = True, prefetch_rows: bool = False) -> NetworkPlan:
    """``update``: the optimizer's code, printed for ``float_type``.
    ``direct_blas``: call numpy's CBLAS (symprop.codegen.blas) rather than ``np.dot``.
    ``split_batches``: the data-parallel training path where the sizes pay (``shardable``).
    ``prefetch_rows``: run() prefetches the next batch's rows (symprop.codegen.prefetch),
    for modules that may import symprop (cached ones)."""
    nodes = layers
    if all(isinstance(layer, LayerSpec) for layer in layers):
        check_chain(layers)
    else:  # normalization layers or residual blocks among the dense layers
        check_nodes(nodes)
        if not isinstance(nodes[-1], LayerSpec):
            raise SympropError("the last layer of a network must be a dense layer (its "
                               "activation and the loss make the output delta)")
        layers = dense_layers(nodes)
    if float_type not in FLOAT_TYPES:
        raise SympropError(f"dtype must be one of {', '.join(FLOAT_TYPES)}, not {float_type!r}")
    if matmul not in MATMUL_CHOICES:
        raise SympropError(f"matmul must be one of {', '.join(MATMUL_CHOICES)}, not {matmul!r}")
    dropout = [1.0 if p else 0.0 for p in (dropout or [0.0] * len(layers))]
    if dropout[-1]:
        raise SympropError("dropout on the output layer is not supported: drop hidden outputs")
    the_loss = loss_code_for(loss, layers[-1], float_type, act_suffix=f"_{len(layers)}")
    plans = []
    for number, spec in enumerate(layers, start=1):
        act = activation_code_for(spec.activation, float_type, suffix=f"_{number}",
                                  hyper=dict(spec.hyper), name=spec.name)
        kernel_act = activation_code_for(spec.activation, float_type, hyper=dict(spec.hyper),
                                         name=spec.name)
        is_output = number == len(layers)
        # Z is stored where the backward pass or the loss reads it, and for softmax (whose
        # forward pass normalises the exponentials of the stored logits).
        keep_z = (act.backward_from == "z" or act.is_softmax
                  or (is_output and "z" in the_loss.reads))
        choice = matmul if matmul != "auto" else (
            "blas" if spec.n_in * spec.n_out >= BLAS_THRESHOLD and spec.n_out >= NARROW_WIDTH
            else "loops")
        plans.append(LayerPlan(number, spec.n_in, spec.n_out, act, kernel_act, choice, keep_z,
                               dropout[number - 1]))
    blocks = []
    if nodes is layers:
        for below, above in zip(plans, plans[1:], strict=False):
            above.input, above.below = below.output, below
    else:
        blocks = plan_nodes(nodes, lambda spec, index: plans[index - 1])
        users = consumers(blocks)
        outputs = {node.output: node for node in blocks}
        for layer in plans:
            below = outputs.get(layer.input)
            layer.below = below if below is not None and fused_below(below, users) else None
    # The header's architecture names each layer by its label (a built-in or validated name,
    # or a formula's kernel identifier), never by the text the user typed.
    labels = iter(f"{layer.n_out}:{layer.act.label}" for layer in plans)
    architecture = format_nodes(nodes, layers[0].n_in, lambda spec: next(labels))
    return NetworkPlan(plans, the_loss, update, float_type,
                       architecture, the_loss.name, update.name, dropout,
                       jit_options(float_type, called_from_python=False),
                       f"gemm_{float_type}" if direct_blas else "", split_batches,
                       prefetch_rows, blocks)


def _unique(kernels) -> list[Kernel]:
    seen: dict[str, Kernel] = {}
    for kernel in kernels:
        seen.setdefault(kernel.name, kernel)
    return list(seen.values())


def jit_options(float_type: str, called_from_python: bool = True) -> str:
    """Numba options: no Python error checks on division, fastmath only where safe.

    'nnan'/'ninf' stay off (training must see a NaN loss to stop on it); float64 kernels also
    keep exact functions and division so gradients match PyTorch to 1e-9.

    Functions called from Python are cached on disk. The kernels only ``run`` calls get
    neither a disk cache nor Python/C wrappers: their machine code is linked into run's,
    which is cached whole, and building the wrappers and cache entries nobody loads was a
    fifth of a cold start.
    """
    flags = ["nsz", "contract", "reassoc"]
    if float_type == "float32":
        flags += ["arcp", "afn"]
    fastmath = "{" + ", ".join(repr(f) for f in flags) + "}"
    common = f'nogil=True, error_model="numpy", fastmath={fastmath}'
    if called_from_python:
        return f"cache=True, {common}"
    return f"{common}, no_cpython_wrapper=True, no_cfunc_wrapper=True"

