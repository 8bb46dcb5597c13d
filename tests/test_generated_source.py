"""Untrusted text never becomes generated code: formulas and names reach modules only as
printed expressions and checked identifiers, and every module's syntax tree is checked
(symprop.codegen.check) before it is written, imported or exported."""

from __future__ import annotations

import itertools
import sys
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symprop as sp
from symprop.architecture import parse_architecture
from symprop.codegen.build import activations_source, network_source
from symprop.codegen.cache import load_module, with_checksum
from symprop.codegen.check import check_module
from symprop.codegen.names import checked_identifier, formula_text, label_for
from symprop.errors import SympropError, UnsafeSourceError

NETWORKS = {
    "4-8:relu-3:softmax": "ce",
    "20-32:relu-1:sigmoid": "bce",
    "3-5:x*tanh(log(1+exp(x)))-2:sigmoid": "bce",
    "64-128:leaky_relu-64:tanh-10:softmax": "ce",
}


@pytest.mark.parametrize("arch, target, optimizer, dropout",
                         list(itertools.product(NETWORKS, ("cpu", "cuda"), ("sgd", "adam"),
                                                (False, True))))
def test_every_generated_module_passes_the_check(arch, target, optimizer, dropout):
    layers = parse_architecture(arch)
    for direct_blas, split in ((False, False), (True, True)):
        source = network_source(
            layers, NETWORKS[arch], optimizer, {"momentum": 0.9} if optimizer == "sgd" else {},
            "float32", "auto", "0", dropout=[dropout] + [False] * (len(layers) - 1),
            direct_blas=direct_blas and target == "cpu", target=target,
            cublas=direct_blas and target == "cuda", split_batches=split)
        check_module(source)
    check_module(activations_source(["relu", "softmax", "x*tanh(log(1+exp(x)))"]))


GOOD = '''"""A generated module."""

import math

import numpy as np
from numba import njit

SIZES = (1, 2)


@njit(cache=True, fastmath={"nsz"})
def twice(x):
    return np.float32(2.0) * math.exp(x)
'''

HOSTILE = {
    "module-level call": "print('hi')\n",
    "import of os": "import os\n",
    "from-import of subprocess": "from subprocess import run\n",
    "star import": "from numpy import *\n",
    "relative import": "from . import x\n",
    "assignment from a call": "X = open('/etc/passwd')\n",
    "eval in a function": "def f():\n    return eval('1')\n",
    "dunder import in a function": "def f():\n    return __import__('os')\n",
    "getattr in a function": "def f(x):\n    return getattr(x, 'y')\n",
    "dunder attribute": "def f(x):\n    return x.__class__\n",
    "private attribute": "def f(x):\n    return x._private\n",
    "class": "class A:\n    pass\n",
    "unknown decorator": "@property\ndef f():\n    pass\n",
    "decorator call with a call inside": "@njit(cache=open('x'))\ndef f():\n    pass\n",
    "repeated argument": "def f(a, a):\n    pass\n",
    "f-string": "def f(x):\n    return f'{x}'\n",
    "with statement": "def f(x):\n    with x:\n        pass\n",
    "global": "def f():\n    global X\n",
    "import inside a function": "def f():\n    import os\n",
    "exec as a name": "def f():\n    e = exec\n",
    "expression statement": "'''doc'''\n1 + 2\n",
    "subscript assignment": "np.x[0] = 1\n",
    "not Python": "def f(:\n",
    # the review's bypasses of the first version of the check
    "os through numba's config, as njit": "from numba.core.config import os as njit\n",
    "njit rebound to a method": "njit = njit.system\n",
    "njit rebound before its import": "njit = np.float32\n",
    "a private name imported": "from numba.core.serialize import _numba_unpickle\n",
    "symprop's writer imported": "from symprop.codegen.cache import write_atomically\n",
    "numpy under another name": "import numpy as notnp\n",
    "bare except": "try:\n    import cupy\nexcept:\n    pass\n",
    "monkeypatching numba": "import numba\nnumba.njit = np.vstack\n",
    "an attribute assignment": "def f(x):\n    x.shape = 1\n",
    "numba's os in a body": "def f():\n    return config.os.system('x')\n",
    "numpy's pickle loader": "def f(p):\n    return np.load(p, allow_pickle=True)\n",
    "ctypes through numpy": "def f():\n    return np.ctypeslib.ctypes\n",
    "a file written by an array": "def f(a):\n    a.tofile('x')\n",
    "a parameter named like a module": "def f(np):\n    return np\n",
    "a function named like an import": "def njit(x):\n    return x\n",
    "a loop rebinding an import": "def f():\n    for math in range(2):\n        pass\n",
}


def test_the_check_accepts_what_symprop_generates():
    check_module(GOOD)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_check_refuses_what_symprop_never_generates(kind):
    with pytest.raises(UnsafeSourceError):
        check_module(GOOD + "\n\n" + HOSTILE[kind])


MARKER_PAYLOAD = '__import__("pathlib").Path({path!r}).write_text("pwned")'


def hostile_formula(base: str, marker) -> str:
    """A valid formula whose text (a comment) would run the payload if pasted into a
    docstring: the comment closes the docstring, the payload follows."""
    return f'{base} # """;{MARKER_PAYLOAD.format(path=str(marker))};"""'


def test_the_issues_payload_in_a_loss_never_runs(tmp_path):
    """The issue's attack: a comment in the loss that would close the module's docstring.
    The parser refuses the comment outright, when the network is built."""
    marker = tmp_path / "marker"
    with pytest.raises(sp.FormulaError, match="'#' is not allowed"):
        sp.Network([sp.Dense(2, 3, "relu"), sp.Dense(3, 1, "sigmoid")],
                   loss=hostile_formula("(yhat - y)**2", marker))
    with pytest.raises(sp.FormulaError, match="'#' is not allowed"):
        sp.Dense(2, 3, hostile_formula("x*tanh(x)", marker))
    assert not marker.exists()


def test_a_formula_reaches_the_source_only_as_printed_by_symprop():
    """Spacing, redundant brackets and the user's spelling are gone: the header shows the
    parsed expression under the kernel's name, never the text as typed."""
    typed = "x  *  ((tanh( x )))"
    net = sp.Network([sp.Dense(2, 3, typed), sp.Dense(3, 1, "sigmoid")], loss="bce")
    net.predict(np.ones((2, 2)))
    source = net.kernel_source()
    assert typed not in source and "a = z*tanh(z)" in source
    assert "2-3:custom_" in source


@pytest.mark.parametrize("name", ['a"b', "a b", "x\n", "é", "__init__", "a" * 65, 7, "1abc"])
def test_names_are_plain_identifiers(name):
    with pytest.raises(SympropError, match="identifier"):
        sp.Dense(2, 3, "x*tanh(x)", name=name)
    with pytest.raises(SympropError, match="identifier"):
        sp.activation("x*tanh(x)", name=name)
    with pytest.raises(SympropError, match="identifier"):
        sp.loss("(yhat - y)**4", name=name)


def test_a_valid_name_labels_the_layer_in_the_header():
    net = sp.Network([sp.Dense(2, 3, "x*tanh(x)", name="tanhx"), sp.Dense(3, 1, "sigmoid")],
                     loss="bce")
    source = net.kernel_source()
    assert "2-3:tanhx-1:sigmoid" in source


def test_names_and_formulas_for_generated_code():
    assert checked_identifier("hp_alpha_1") == "hp_alpha_1"
    for bad in ("lambda", "__x", "a-b", "a b", "é", ""):
        with pytest.raises(UnsafeSourceError):
            checked_identifier(bad)
    assert label_for(None, "x*2", "custom_abc") == "custom_abc"
    assert label_for("mish", "x*2", "custom_abc") == "mish"
    assert label_for("relu", None, "relu") == "relu"
    import sympy

    z = sympy.Symbol("z", real=True)
    assert formula_text(z * sympy.tanh(z)) == "z*tanh(z)"
    with pytest.raises(UnsafeSourceError):
        formula_text(sympy.Symbol('a"""b'))


def test_a_loss_hyperparameter_may_not_share_the_output_activations_name():
    from symprop.codegen.kernels import loss_code

    with pytest.raises(SympropError, match="alpha"):
        loss_code(sp.loss("alpha*(yhat - y)**2", alpha=2.0),
                  sp.activation("leaky_relu", alpha=0.1), "float64")


def test_a_tampered_cache_file_is_rebuilt_never_imported(tmp_path):
    """A cached module whose checksum matches but whose code is not what symprop generates
    (someone wrote it): rebuilt from the renderer, the payload never runs."""
    marker = tmp_path / "marker"
    key = uuid.uuid4().hex[:24]
    path = tmp_path / f"symprop_{key}.py"
    payload = f'"""cached"""\n\n{MARKER_PAYLOAD.format(path=str(marker))}\nVALUE = 1\n'
    path.write_text(with_checksum(payload))
    module = load_module(key, lambda: '"""rebuilt"""\n\nVALUE = 2\n', tmp_path)
    try:
        assert module.VALUE == 2 and not marker.exists()
        assert "pathlib" not in path.read_text()
    finally:
        sys.modules.pop(f"symprop_generated_{key}", None)


def test_a_render_that_fails_the_check_is_never_written(tmp_path):
    key = uuid.uuid4().hex[:24]
    with pytest.raises(UnsafeSourceError):
        load_module(key, lambda: '"""x"""\nimport os\n', tmp_path)
    assert not (tmp_path / f"symprop_{key}.py").exists()


# Text that tries to leave a docstring, a comment or a string, or to look like code.
FRAGMENTS = ['"""', "'''", "#", "\n", "\\", "\r", "\x00", "é", "ж", "λ", "__import__('os')",
             "exec(", ");", "\t", '"', "'", "{", "}", "%", "$", "x", "z", "exp(", "tanh(",
             "*", "+", "-", "/", "(", ")", "2", "0.5", "**", "^", ",", " ", "relu", "a", "_"]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(formula=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12).map("".join),
       name=st.one_of(st.none(), st.text(max_size=12)))
def test_random_formulas_and_names_never_reach_the_source(formula, name):
    """Either the formula or name is refused with a symprop error, or the rendered module
    passes the check and holds no text of theirs beyond the parsed formula's printing."""
    try:
        source = activations_source([formula]) if name is None else None
        layers = [sp.Dense(2, 2, formula, name=name).spec, sp.Dense(2, 1, "sigmoid").spec]
        source = source or network_source(layers, "bce")
    except SympropError:
        return
    tree = check_module(source)
    header = tree.body[0].value.value  # the module's docstring
    for fragment in ("__import__", "exec", "#", "\\", "\r", "\x00", "é", "ж", "λ", "$", "%"):
        assert fragment not in header, fragment
