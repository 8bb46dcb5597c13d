"""The symbols every derivation shares, so that results compare structurally.

Scalar, per-sample forms use plain symbols (``z``, ``a``, ``yhat``, ``y``); per-class forms
(softmax, categorical cross-entropy) use indexed ones (``yhat[k]``, ``y[k]``) with class
indices ``k, j`` running over ``1..K``. SymPy prints ``yhat`` as ``\\hat{y}`` in LaTeX.
"""

import sympy as sp

from symprop.derive.notation import NotationSymbol

z = sp.Symbol("z", real=True)  # pre-activation
a = sp.Symbol("a", real=True)  # activation output a = f(z)
yhat = sp.Symbol("yhat", real=True)  # prediction (the output layer's activation)
y = sp.Symbol("y", real=True)  # target
m = sp.Symbol("m", integer=True, positive=True)  # samples in the batch

i, j, k = sp.symbols("i j k", integer=True, positive=True)  # class indices
K = sp.Symbol("K", integer=True, positive=True)  # number of classes
Z = sp.IndexedBase("z", real=True)
A = sp.IndexedBase("a", real=True)
YHAT = sp.IndexedBase("yhat", real=True)
Y = sp.IndexedBase("y", real=True)
G = sp.IndexedBase("g", real=True)  # an upstream gradient dL/da

# Huber's threshold: PyTorch's (and the API's) delta, printed kappa so that it never reads as
# the error signal delta^{(l)}.
HUBER_DELTA = NotationSymbol("delta", r"\kappa", "κ", positive=True)

yhat_k = YHAT[k]
y_k = Y[k]
