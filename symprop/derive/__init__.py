"""Stage 1 of symprop: SymPy derives every formula, each derivation printable step by step.

Nothing here imports numba; the next stage (``symprop.codegen``) consumes only the SymPy
expressions this package produces.
"""

from symprop.derive.activations import Activation, activation, known_activations
from symprop.derive.calculus import (
    LinearChange,
    directional_derivative,
    gradient,
    gradient_derivation,
    jacobian,
    jacobian_derivation,
    linear_change,
)
from symprop.derive.delta import output_delta
from symprop.derive.derivation import Derivation, Step
from symprop.derive.descent import gradient_descent, gradient_descent_derivation
from symprop.derive.explain import Explanation, explain_network
from symprop.derive.graph import ComputationGraph, computation_graph
from symprop.derive.losses import Loss, known_losses, loss
from symprop.derive.network import network_derivation
from symprop.derive.norms import batchnorm_derivation, layernorm_derivation, rmsnorm_derivation
from symprop.derive.residual import residual_derivation
from symprop.derive.softmax import Softmax
from symprop.derive.values import Hyperparameters

__all__ = [
    "Activation", "ComputationGraph", "Derivation", "Explanation", "Hyperparameters",
    "LinearChange", "Loss", "Softmax", "Step", "activation", "batchnorm_derivation",
    "computation_graph",
    "directional_derivative", "explain_network", "gradient", "gradient_derivation",
    "gradient_descent", "gradient_descent_derivation", "jacobian", "jacobian_derivation",
    "known_activations", "known_losses", "layernorm_derivation", "linear_change", "loss",
    "network_derivation", "output_delta", "residual_derivation", "rmsnorm_derivation",
]
