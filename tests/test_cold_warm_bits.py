"""The process that compiles a network and every process that loads it from the cache train
it to the same bits.

Numba links the kernels run() calls into run()'s own module and optimizes them there a
second time; a compiling process used to call the kernels' first copies instead, and with
fastmath's reassoc the two could round differently (symprop.codegen.numba_linking). These
tests train networks of every kind of kernel in a fresh cache, then again from the cache
in a second process, and compare the bytes.
"""

from __future__ import annotations

import json

import pytest
from llvmlite import binding as llvm
from test_codegen_cache import run_child

from symprop.codegen.numba_linking import _of_symprop, internalize_kernel_copies

# (network, loss, dtype, optimizer, batch size, the first layer's dropout): the kernels of
# each kind (narrow layers, products by BLAS, the split path's shards of rows and of units,
# normalization, residual blocks, a formula, dropout).
NETWORKS = [
    ("4-32:tanh-1:sigmoid", "bce", "float64", "sgd", 5, 0.0),
    ("4-32:gelu-3:sigmoid", "bce", "float64", "sgd", 5, 0.0),
    ("6-16:x*tanh(log(1+exp(x)))-2:softmax", "ce", "float64", "adam", 8, 0.0),
    ("8-64:elu-64:relu-5:softmax", "ce", "float32", "adam", 16, 0.0),
    ("10-32:softplus-32:tanh-1:linear", "mse", "float32", "rmsprop", 8, 0.0),
    ("20-32:relu-bn-[32:relu-32:relu]-1:sigmoid", "bce", "float64", "sgd", 8, 0.0),
    ("64-128:relu-ln-[128:relu]-10:softmax", "ce", "float32", "sgd", 64, 0.0),
    ("12-24:elu-4:sigmoid", "bce", "float64", "sgd", 8, 0.25),
    ("64-128:relu-64:tanh-10:softmax", "ce", "float32", "adam", 64, 0.0),  # column split
]

TRAIN_CHILD = """
import hashlib, json, sys
import numpy as np
from symprop.blocks import parse_network
from symprop.runtime.layers import Dense
from symprop.runtime.network import Network
from symprop.runtime.network_parts import layers_from_specs
from symprop.runtime.optimizers import make_optimizer

digests = []
for arch, loss, dtype, optimizer, batch_size, dropout in json.loads(sys.argv[1]):
    specs = parse_network(arch)
    rng = np.random.default_rng(7)
    X = rng.normal(size=(150, specs[0].n_in))
    outputs = [spec for spec in specs if hasattr(spec, "n_out")][-1].n_out
    if loss == "ce":
        y = rng.integers(0, outputs, 150)
    elif loss == "bce":
        y = (X[:, :outputs] > 0).astype(float)
    else:
        y = np.sin(X[:, 0])
    layers = layers_from_specs(specs)
    if dropout:
        first = layers[0]
        layers[0] = Dense(first.n_in, first.n_out, first.activation, dropout=dropout)
    net = Network(layers, loss=loss, dtype=dtype, seed=3)
    history = net.fit(X, y, epochs=3, batch_size=batch_size, verbose=False,
                      optimizer=make_optimizer(optimizer, lr=0.05))
    arrays = [np.asarray(a) for layer in net.gradients(X[:37], y[:37]) for a in layer]
    arrays += [np.asarray(a) for a in net._flat_params()]
    arrays += [np.asarray(net.predict(X[:37]))]
    digest = hashlib.sha256(b"".join(a.tobytes() for a in arrays))
    digest.update(np.asarray(history["loss"]).tobytes())
    digests.append(digest.hexdigest())
print(json.dumps({"digests": digests}))
"""


def test_a_warm_process_trains_as_the_compiling_one(tmp_path):
    folder = tmp_path / "cache"
    networks = json.dumps(NETWORKS)
    cold = run_child(TRAIN_CHILD, folder, networks, timeout=600)["digests"]
    warm = run_child(TRAIN_CHILD, folder, networks, timeout=600)["digests"]
    differ = [NETWORKS[i][0] for i, (a, b) in enumerate(zip(cold, warm, strict=True)) if a != b]
    assert not differ, f"trained to other bits once loaded from the cache: {differ}"


def test_a_process_that_loaded_some_networks_trains_others_as_a_fresh_one(tmp_path):
    # The second child compiles a network the first did not (sharing kernels with the
    # ones it loads from the cache first); a third loads all from the cache.
    folder = tmp_path / "cache"
    run_child(TRAIN_CHILD, folder, json.dumps(NETWORKS[:4]), timeout=600)
    mixed = run_child(TRAIN_CHILD, folder, json.dumps(NETWORKS[:5]), timeout=600)
    warm = run_child(TRAIN_CHILD, folder, json.dumps(NETWORKS[:5]), timeout=600)
    assert mixed == warm


IR = """
define linkonce_odr i32 @"_ZN39symprop_kernel_0123456789abcdef012345673fooB2v1E"(i32 %x) {
  ret i32 %x
}
define linkonce_odr void @NRT_incref(ptr %p) {
  ret void
}
define linkonce_odr i32 @"_ZN8__main__3barB2v2E"(i32 %x) {
  ret i32 %x
}
define i32 @"_ZN42symprop_generated_0123456789abcdef012345673runB2v3E"(i32 %x) {
  %a = call i32 @"_ZN39symprop_kernel_0123456789abcdef012345673fooB2v1E"(i32 %x)
  %b = call i32 @"_ZN8__main__3barB2v2E"(i32 %a)
  ret i32 %b
}
"""


def _linkages(module) -> dict[str, str]:
    return {fn.name: fn.linkage.name for fn in module.functions if not fn.is_declaration}


def test_only_the_symprop_kernels_linked_into_symprop_functions_turn_internal():
    module = llvm.parse_assembly(IR)
    kernel = "_ZN39symprop_kernel_0123456789abcdef012345673fooB2v1E"
    assert internalize_kernel_copies(module) == [kernel]
    linkages = _linkages(module)
    assert linkages[kernel] == "internal"
    # Numba's runtime and the user's own functions keep Numba's linkage.
    assert linkages["NRT_incref"] == linkages["_ZN8__main__3barB2v2E"] == "linkonce_odr"
    module.verify()


HELPER = """
define internal i32 @"_ZN39symprop_kernel_fedcba9876543210fedcba983sumB2v9E"(i32 %x) {
  ret i32 %x
}
"""


@pytest.mark.parametrize("linked_in", ["", HELPER], ids=["kernel", "kernel-and-its-helper"])
def test_a_user_module_that_links_a_symprop_kernel_is_left_alone(linked_in):
    # a user's function calling symprop's: what it links in may hold a symprop copy this
    # made internal in its own library (a helper of the kernel); the user's module is not
    # symprop's for that
    text = IR.replace("define i32 @\"_ZN42symprop_generated_0123456789abcdef012345673run",
                      "define i32 @\"_ZN8__main__3run") + linked_in
    module = llvm.parse_assembly(text)
    before = _linkages(module)
    assert internalize_kernel_copies(module) == []
    assert _linkages(module) == before


@pytest.mark.parametrize("name, expected", [
    ("_ZN39symprop_kernel_0123456789abcdef012345673fooB2v1E", True),
    ("_ZN42symprop_generated_0123456789abcdef012345673runB2v3E", True),
    ("_ZN7cpython42symprop_generated_0123456789abcdef012345673runE", False),
    ("_ZN8__main__3fooE", False),
    ("_ZN7symprop7codegen4blas12gemm_float64B2v5E", True),
    ("_ZN9symprop_x3fooE", False),
    ("_ZN2ab39symprop_kernel_0123456789abcdef01234567", False),
    ("symprop_kernel_0123456789abcdef01234567", False),
    ("_ZNsymprop_kernel_", False),
    ("_ZN99symprop", False),
    ("_ZN", False),
])
def test_symprop_functions_are_told_by_the_module_in_their_mangled_name(name, expected):
    assert _of_symprop(name) is expected
