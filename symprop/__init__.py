"""symprop: see the math of a neural network, get fast kernels from it, train with them.

``import symprop as sp`` gives the public API of DESIGN.md: ``sp.activation``, ``sp.loss``,
``sp.output_delta``, the calculus helpers, and (later stages) ``sp.Network`` and friends.
"""

from symprop.derive import (
    Activation,
    ComputationGraph,
    Derivation,
    Loss,
    Step,
    activation,
    computation_graph,
    directional_derivative,
    gradient,
    gradient_descent,
    jacobian,
    known_activations,
    known_losses,
    loss,
    network_derivation,
    output_delta,
)
from symprop.errors import (
    FormulaError,
    MissingHyperparameterError,
    NotDifferentiableError,
    ShapeError,
    SympropError,
    UnknownNameError,
)
from symprop.runtime import (
    SGD,
    Adam,
    Dense,
    History,
    Network,
    RMSprop,
    Standardizer,
    load,
    load_csv,
    load_dataset,
    one_hot,
    train_test_split,
)

__version__ = "0.1.0"

__all__ = [
    "SGD", "Adam", "Dense", "History", "Network", "RMSprop", "Standardizer", "load",
    "load_csv", "load_dataset", "one_hot", "train_test_split",
    "Activation", "ComputationGraph", "Derivation", "FormulaError", "Loss",
    "MissingHyperparameterError", "NotDifferentiableError", "ShapeError", "Step",
    "SympropError", "UnknownNameError",
    "activation", "computation_graph", "directional_derivative", "gradient",
    "gradient_descent", "jacobian", "known_activations", "known_losses", "loss",
    "network_derivation", "output_delta",
]
