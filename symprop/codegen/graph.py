"""Networks with normalization layers and residual blocks: their nodes and backward steps.

A chain of dense layers needs none of this (each layer's delta kernel writes the delta of the
layer below, slope included). Once a normalization or a residual addition sits between dense
layers, or a value feeds two nodes (a residual block's input feeds its body and its sum),
the gradient of a node's output is assembled from its consumers first:

- the first consumer (in backward order) writes it, the others add theirs (``Step.scratch``:
  the CPU kernels add in the same pass, gemm's beta = 1 or ``+=``; the CUDA module writes
  the scratch buffer, then ``accumulate``); a residual body's last node shares its block's
  gradient;
- then the node's own backward step: a dense layer's slope (``D = G * f'``) and gradients,
  a normalization's closed form (``symprop.derive.norms``) and gamma, beta gradients.

Dense -> dense edges with one consumer keep the fused delta kernel. Every decision is made
here, in Python: the template renders ``NetworkPlan.backward_steps`` one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symprop.blocks import SameWidth


@dataclass
class NormPlan(SameWidth):
    """A batch or layer normalization node; ``number`` names its buffers and parameters."""

    number: int
    kind: str  # "batchnorm" | "layernorm"
    n: int
    eps: float
    momentum: float
    input: str = "XB"

    @property
    def output(self) -> str:
        return f"H{self.number}"

    @property
    def gamma(self) -> str:
        return f"g{self.number}"

    @property
    def beta(self) -> str:
        return f"be{self.number}"

    @property
    def param_names(self) -> tuple[str, str]:
        return (self.gamma, self.beta)

    @property
    def running(self) -> tuple[str, ...]:
        """Persistent state: the running mean and variance (batch normalization only)."""
        return (f"RM{self.number}", f"RV{self.number}") if self.kind == "batchnorm" else ()

    @property
    def row_buffers(self) -> list[tuple[str, int, str]]:
        """(name, width, fill) of its per-batch buffers: output, normalized values, and for
        layer normalization each row's 1/sigma (one column)."""
        found = [(self.output, self.n, "empty"), (f"XH{self.number}", self.n, "empty")]
        if self.kind == "layernorm":
            found.append((f"IS{self.number}", 1, "empty"))
        return found

    @property
    def unit_buffers(self) -> list[tuple[str, int]]:
        """Per-unit work arrays of batch normalization: the batch's mean and 1/sigma, and
        (for the split path) its sums over rows of G and G XH."""
        if self.kind != "batchnorm":
            return []
        return [(f"{name}{self.number}", self.n) for name in ("MU", "IS", "SG", "SGX")]


@dataclass
class AddPlan(SameWidth):
    """A residual block's sum: its input ``skip`` plus its body's output ``body``."""

    number: int
    n: int
    skip: str
    body: str

    @property
    def output(self) -> str:
        return f"H{self.number}"

    @property
    def row_buffers(self) -> list[tuple[str, int, str]]:
        return [(self.output, self.n, "empty")]


@dataclass
class Step:
    """One line of the backward pass, rendered by the template's macro of ``kind``:

    - ``slope``: ``D = G * f'`` of dense ``node`` from ``source`` (its gradient);
    - ``dense``: the weight and bias gradients of dense ``node``, then its input's gradient
      into ``target`` (the identity-slope delta kernel; ``fused``: the layer below's delta);
    - ``norm``: a normalization's backward from ``source`` into ``target``;
    - ``copy`` / ``add``: ``target`` = / += ``source`` (a sum's gradient to its skip input);
    - ``dense`` or ``norm`` with ``scratch``: the contribution is added to ``target`` (which
      an earlier consumer wrote), through ``scratch`` where the target needs a buffer for it;
    - ``norm`` with ``target`` a sink (``Gradients.sinks``): nothing reads its input's
      gradient (the network's first node), only gamma's and beta's are needed;
    - ``norm`` with ``slope``: its input's gradient goes on through that dense layer's
      slope in the same pass, into its D (``folds_slope``)."""

    kind: str
    node: object = None
    source: str = ""
    target: str = ""
    scratch: str = ""  # the consumer's contribution lands here, then is added to target
    fused: bool = False
    sink: bool = False  # target is a sink: nothing reads it
    slope: object = None  # norm steps: the dense node below, whose slope joins (folds_slope)

    @property
    def slope_suffix(self) -> str:
        """What a norm step's kernel name adds for the slope it goes on through."""
        return f"_{slope_suffix(self.slope)}" if self.slope is not None else ""


@dataclass
class Gradients:
    """Where each node's output gradient lives, and which consumers write it."""

    buffer: dict[str, str] = field(default_factory=dict)  # output name -> gradient buffer
    written: set[str] = field(default_factory=set)
    scratch: list[tuple[str, int]] = field(default_factory=list)  # (name, width) to allocate
    own: list[tuple[str, int]] = field(default_factory=list)
    sinks: list[tuple[str, int]] = field(default_factory=list)  # input gradients nobody reads


def consumers(nodes) -> dict[str, list[tuple[object, str]]]:
    """Output name -> [(consumer, role)], role "input", "skip" or "body"."""
    found: dict[str, list] = {}
    for node in nodes:
        if isinstance(node, AddPlan):
            found.setdefault(node.skip, []).append((node, "skip"))
            found.setdefault(node.body, []).append((node, "body"))
        else:
            found.setdefault(node.input, []).append((node, "input"))
    return found


def is_dense(node) -> bool:
    return not isinstance(node, NormPlan | AddPlan)


def fused_below(node, users) -> bool:
    """Whether dense ``node``'s delta is written by the dense layer above (today's chain)."""
    above = users.get(node.output, [])
    return (is_dense(node) and len(above) == 1 and above[0][1] == "input"
            and is_dense(above[0][0]))


def folds_slope(node, users) -> bool:
    """Whether dense ``node``'s slope joins the backward pass of the normalization above it
    (its only consumer): one pass writes D = (gradient of the norm's input) * f' instead of
    a gradient buffer and a slope pass. Softmax's slope mixes a row's units: not there."""
    above = users.get(node.output, [])
    return (is_dense(node) and len(above) == 1 and above[0][1] == "input"
            and isinstance(above[0][0], NormPlan) and not node.kernel_act.is_softmax)


def backward_steps(nodes) -> tuple[list[Step], Gradients]:
    """The backward pass of ``nodes`` (in execution order; the last is the dense output
    layer, whose delta the loss writes) as steps, and the gradient buffers they need."""
    users = consumers(nodes)
    grads = Gradients()
    for node in reversed(nodes):
        name = node.output
        only = users.get(name, [])
        if len(only) == 1 and only[0][1] == "body":
            grads.buffer[name] = grads.buffer[only[0][0].output]  # a body shares its sum's
        elif folds_slope(node, users):
            grads.buffer[name] = f"D{node.index}"
        elif name in users and not fused_below(node, users):
            grads.buffer[name] = f"G_{name}"
            grads.own.append((f"G_{name}", node.n_out))
    steps: list[Step] = []
    for node in reversed(nodes):
        if (is_dense(node) and node is not nodes[-1] and not fused_below(node, users)
                and not folds_slope(node, users)):
            steps.append(Step("slope", node, source=grads.buffer[node.output]))
        if isinstance(node, AddPlan):
            if node.skip != "XB":
                steps.append(_contribute(grads, Step("copy", node,
                                                     source=grads.buffer[node.output]),
                                         node.skip, node.n))
            continue
        if node.input == "XB":  # nothing below needs a gradient; a norm still writes one
            step = Step(_kind(node), node, source=grads.buffer.get(node.output, ""))
            if isinstance(node, NormPlan):
                step.target, step.sink = f"E_in{node.number}", True
                grads.sinks.append((step.target, node.n))
            steps.append(step)
            continue
        below = node.input
        if is_dense(node) and fused_below_of(nodes, users, node):
            steps.append(Step("dense", node, fused=True))
            continue
        step = Step(_kind(node), node, source=grads.buffer.get(node.output, ""))
        producer = _producer(nodes, below)
        if producer is not None and folds_slope(producer, users):
            step.slope = producer
        steps.append(_contribute(grads, step, below, node.n_in))
    _share_copied_gradients(steps, grads)
    return steps, grads


def _share_copied_gradients(steps: list[Step], grads: Gradients) -> None:
    """A residual block's input gradient starts as a copy of its sum's gradient. Where every
    read of the sum's gradient comes before the first addition to the copy, one buffer can
    serve both: the copy goes (a pass over the batch saved). In nested blocks a skip's
    addition can come before the body's reads; those copies stay."""
    index = 0
    while index < len(steps):
        step = steps[index]
        later = steps[index + 1:]
        reads = [j for j, other in enumerate(later) if other.source == step.source]
        writes = [j for j, other in enumerate(later) if other.target == step.target]
        if step.kind != "copy" or (reads and writes and max(reads) >= min(writes)):
            index += 1
            continue
        del steps[index]
        for other in later:
            other.target = step.source if other.target == step.target else other.target
            other.source = step.source if other.source == step.target else other.source
        for output, buffer in grads.buffer.items():
            if buffer == step.target:
                grads.buffer[output] = step.source
        grads.own = [(name, width) for name, width in grads.own if name != step.target]


def fused_below_of(nodes, users, node) -> bool:
    """Whether ``node``'s input is a dense layer whose delta ``node`` writes, fused."""
    below = _producer(nodes, node.input)
    return below is not None and fused_below(below, users)


def _producer(nodes, output: str):
    """The node whose output is ``output`` (None for the network's input)."""
    return next((other for other in nodes if other.output == output), None)


def _kind(node) -> str:
    return "norm" if isinstance(node, NormPlan) else "dense"


def _contribute(grads: Gradients, step: Step, target_output: str, width: int) -> Step:
    """Point ``step`` at the gradient of ``target_output``: written directly by the first
    contributor, through a scratch buffer (then added) by later ones."""
    target = grads.buffer[target_output]
    step.target = target
    if target in grads.written:
        step.scratch = f"E_{target_output}_{len(grads.scratch)}"
        grads.scratch.append((step.scratch, width))
        if step.kind == "copy":
            step.kind = "add"
            step.scratch = ""
            grads.scratch.pop()
    grads.written.add(target)
    return step


def plan_nodes(specs, make_dense, start_input: str = "XB"):
    """Nodes in execution order from the specs of symprop.blocks (depth first, numbered as
    symprop.blocks.check_nodes numbers them); ``make_dense(spec, index)`` plans dense layer
    ``index`` (1-based among the dense layers). Each node's input is the output before it."""
    from symprop.blocks import NormSpec, ResidualSpec

    nodes: list = []
    counter = {"number": 0, "dense": 0}

    def walk(specs, current: str) -> str:
        for spec in specs:
            counter["number"] += 1
            number = counter["number"]
            if isinstance(spec, ResidualSpec):
                body_out = walk(spec.body, current)
                nodes.append(AddPlan(number, spec.n_out, current, body_out))
            elif isinstance(spec, NormSpec):
                nodes.append(NormPlan(number, spec.kind, spec.n, spec.eps, spec.momentum,
                                      current))
            else:
                counter["dense"] += 1
                layer = make_dense(spec, counter["dense"])
                layer.input = current
                nodes.append(layer)
            current = nodes[-1].output
        return current

    walk(specs, start_input)
    return nodes


def param_shapes(node) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of a node's parameters: a dense layer's W and b, a normalization's
    gamma and beta, none for a residual sum."""
    if isinstance(node, NormPlan):
        return [(node.gamma, (node.n,)), (node.beta, (node.n,))]
    if isinstance(node, AddPlan):
        return []
    return [(node.W, (node.n_in, node.n_out)), (node.b, (node.n_out,))]


def identity_delta_kernel(layer, add: bool = False) -> str:
    """The delta kernel that writes D @ W^T alone (into the gradient of a node that is not
    a dense layer, or of one with several consumers); ``add``: adds it to what an earlier
    consumer wrote."""
    return f"delta_{'add' if add else 'identity'}_{layer.kernel_variant}"


def slope_suffix(layer) -> str:
    """A dense layer's slope in kernel names: its activation, and _dropout where it has it
    (the slope kernels, and the normalization kernels that go on through a slope)."""
    return f"{layer.kernel_act.name}{'_dropout' if layer.has_dropout else ''}"


def slope_kernel(layer) -> str:
    return f"slope_{slope_suffix(layer)}"

