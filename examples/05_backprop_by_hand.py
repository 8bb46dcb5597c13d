"""The notes' backprop worked example: x = 2 -> w = 3 -> relu -> v = 0.5 -> output, MSE
against target 5, learning rate 0.1. The gradients are dL/dv = -24 and dL/dw = -4; one step
gives w = 3.4 and v = 2.9."""

import numpy as np

import symprop as sp

net = sp.Network([sp.Dense(1, 1, "relu"), sp.Dense(1, 1, "identity")], loss="mse",
                 dtype="float64")
net.set_params([(np.array([[3.0]]), np.zeros(1)), (np.array([[0.5]]), np.zeros(1))])
x, target = np.array([[2.0]]), np.array([[5.0]])

print("output", net.predict(x)[0, 0], " loss", net.evaluate(x, target)["loss"])
(dw, _), (dv, _) = net.gradients(x, target)
print(f"dL/dw = {dw[0, 0]:g}   dL/dv = {dv[0, 0]:g}")
assert dw[0, 0] == -4 and dv[0, 0] == -24

net.fit(x, target, epochs=1, batch_size=1, optimizer=sp.SGD(lr=0.1), verbose=False)
(w, _), (v, _) = net.params
print(f"after one step: w = {w[0, 0]:g}   v = {v[0, 0]:g}")
assert np.isclose(w[0, 0], 3.4) and np.isclose(v[0, 0], 2.9)
