"""The notes' hand-written NumPy training loop (3-4-1, relu then sigmoid, BCE, 4 samples),
and symprop training the same network from the same weights: the same loss trajectory."""

import numpy as np

import symprop as sp

# -- the notes, as written (seed 42, weights * 0.01, lr 0.1, full batch) ---------------------
np.random.seed(42)
W1 = np.random.randn(3, 4) * 0.01
b1 = np.zeros((1, 4))
W2 = np.random.randn(4, 1) * 0.01
b2 = np.zeros((1, 1))
X = np.array([[1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]], dtype=float)
y = np.array([[0], [0], [1], [1]], dtype=float)
initial = [(W1.copy(), b1[0].copy()), (W2.copy(), b2[0].copy())]

epochs, lr, m = 300, 0.1, X.shape[0]
numpy_losses = []
for _ in range(epochs):
    Z1 = X @ W1 + b1
    A1 = np.maximum(0, Z1)
    A2 = 1 / (1 + np.exp(-(A1 @ W2 + b2)))
    numpy_losses.append(-np.mean(y * np.log(A2) + (1 - y) * np.log(1 - A2)))
    dZ2 = A2 - y  # the derived output delta of BCE after sigmoid
    dW2, db2 = A1.T @ dZ2 / m, dZ2.sum(axis=0, keepdims=True) / m
    dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
    dW1, db1 = X.T @ dZ1 / m, dZ1.sum(axis=0, keepdims=True) / m
    W2 -= lr * dW2
    b2 -= lr * db2
    W1 -= lr * dW1
    b1 -= lr * db1

# -- symprop, same weights, same steps ------------------------------------------------------
net = sp.Network([sp.Dense(3, 4, "relu"), sp.Dense(4, 1, "sigmoid")], loss="bce",
                 dtype="float64")
net.set_params(initial)
history = net.fit(X, y, epochs=epochs, batch_size=4, optimizer=sp.SGD(lr=lr), shuffle=False,
                  verbose=False)
# The notes record the loss before each (full-batch) update; so does fit: an epoch's loss
# is the mean of what its batches saw.
symprop_losses = history["loss"]

worst = max(abs(a - b) / abs(a) for a, b in zip(numpy_losses, symprop_losses, strict=True))
for epoch in range(0, epochs, 50):
    print(f"epoch {epoch:3d}   numpy {numpy_losses[epoch]:.10f}   "
          f"symprop {symprop_losses[epoch]:.10f}")
print(f"largest relative difference over {epochs} epochs: {worst:.2e}")
assert worst < 1e-9, worst
