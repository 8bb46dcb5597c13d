"""symprop: see the math of a neural network, get fast kernels from it, train with them.

``import symprop as sp`` gives the public API of DESIGN.md. The derivation functions
(``sp.activation``, ``sp.loss``, ``sp.output_delta``, the calculus helpers) import SymPy on
first use, so a process that only trains cached networks never pays for it.
"""

from importlib import import_module

from symprop.errors import (
    CacheError,
    CachePermissionError,
    DataError,
    FileError,
    FormulaError,
    MissingHyperparameterError,
    ModelFileError,
    NotDifferentiableError,
    ShapeError,
    SympropError,
    TrainingError,
    UnknownNameError,
    UnsafeSourceError,
)
from symprop.runtime import (
    SGD,
    Adam,
    BatchNorm,
    Dense,
    History,
    LayerNorm,
    Network,
    Residual,
    RMSprop,
    Standardizer,
    kfold_indices,
    load,
    load_csv,
    load_dataset,
    one_hot,
    train_test_split,
)

__version__ = "0.1.0"

# Public names served lazily from the derive stage (SymPy is imported on first use).
_DERIVE = {
    "Activation", "ComputationGraph", "Derivation", "Explanation", "Hyperparameters",
    "LinearChange", "Loss", "Softmax", "Step", "activation", "computation_graph",
    "directional_derivative", "explain_network", "gradient", "gradient_derivation",
    "gradient_descent", "gradient_descent_derivation", "jacobian", "jacobian_derivation",
    "known_activations", "known_losses", "linear_change", "loss", "network_derivation",
    "output_delta", "batchnorm_derivation", "layernorm_derivation", "residual_derivation",
    "rmsnorm_derivation",
}


# Served from a module of their own: symprop.derive does not import them, so that the
# function ``handbook`` does not hide the module ``symprop.derive.handbook``; and the sweep
# engine (Dask is imported only when a sweep runs).
_DERIVE_MODULES = {"handbook": "symprop.derive.handbook", "sweep": "symprop.sweeps",
                   "SweepResult": "symprop.sweeps", "SweepError": "symprop.sweeps"}


def __getattr__(name: str):
    if name in _DERIVE or name in _DERIVE_MODULES:
        value = getattr(import_module(_DERIVE_MODULES.get(name, "symprop.derive")), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'symprop' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _DERIVE | set(_DERIVE_MODULES))


__all__ = [
    "SGD", "Activation", "Adam", "BatchNorm", "CacheError", "CachePermissionError",
    "ComputationGraph", "DataError", "Dense", "Derivation", "Explanation", "FileError",
    "FormulaError", "History", "Hyperparameters", "LayerNorm", "LinearChange", "Loss",
    "MissingHyperparameterError", "ModelFileError", "Network", "NotDifferentiableError",
    "RMSprop", "Residual", "ShapeError", "Softmax", "Standardizer",
    "Step", "SweepError", "SweepResult", "SympropError", "TrainingError", "UnknownNameError",
    "UnsafeSourceError",
    "activation", "batchnorm_derivation", "computation_graph", "directional_derivative",
    "explain_network",
    "gradient", "gradient_derivation", "gradient_descent", "gradient_descent_derivation",
    "handbook", "jacobian", "jacobian_derivation", "known_activations", "known_losses",
    "kfold_indices", "layernorm_derivation", "linear_change", "load", "load_csv",
    "load_dataset", "loss", "network_derivation",
    "one_hot", "output_delta", "residual_derivation", "rmsnorm_derivation", "sweep",
    "train_test_split",
]
