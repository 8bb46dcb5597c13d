"""Stage 1 of symprop: SymPy derives every formula, each derivation printable step by step.

Nothing here imports numba; the next stage (``symprop.codegen``) consumes only the SymPy
expressions this package produces.
"""

from symprop.derive.activations import Activation, activation, known_activations
try:  # TEMPORARY while calculus.py is being written
    from symprop.derive.calculus import (
        computation_graph,
        directional_derivative,
        gradient,
        gradient_descent,
        jacobian,
    )
except ImportError:
    pass
from symprop.derive.delta import output_delta
from symprop.derive.derivation import Derivation, Step
from symprop.derive.losses import Loss, known_losses, loss
from symprop.derive.softmax import Softmax

__all__ = [
    "Activation", "Derivation", "Loss", "Softmax", "Step", "activation", "computation_graph",
    "directional_derivative", "gradient", "gradient_descent", "jacobian", "known_activations",
    "known_losses", "loss", "output_delta",
]
