"""The notes' PyTorch example (make_classification 1000x20, 32 relu units, sigmoid, BCE,
Adam 0.01, 100 full-batch epochs, 80/20 split), trained by symprop; PyTorch too if it is
installed, from the same initial weights."""

import time

import numpy as np

import symprop as sp
from symprop.runtime.data import _classification  # the notes' exact call

X, y = _classification(n_samples=1000, n_features=20, n_classes=2, seed=42)
X_train, X_test, y_train, y_test = sp.train_test_split(X, y, 0.2, seed=42)
scaler = sp.Standardizer().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

net = sp.Network([sp.Dense(20, 32, "relu"), sp.Dense(32, 1, "sigmoid")], loss="bce",
                 dtype="float32", seed=0)
initial = net.params
start = time.perf_counter()
net.fit(X_train, y_train, epochs=100, batch_size=len(X_train), optimizer=sp.Adam(lr=0.01),
        shuffle=False, verbose=False)
ours = net.evaluate(X_test, y_test)["accuracy"]
print(f"symprop  test accuracy {ours:.4f}  ({time.perf_counter() - start:.2f} s with compile)")

try:
    import torch
except ImportError:
    print("PyTorch is not installed: skipping the side-by-side run")
else:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(),
                                torch.nn.Linear(32, 1), torch.nn.Sigmoid())
    with torch.no_grad():
        for linear, (W, b) in zip([model[0], model[2]], initial, strict=True):
            linear.weight.copy_(torch.tensor(W.T))
            linear.bias.copy_(torch.tensor(b))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    inputs = torch.tensor(X_train, dtype=torch.float32)
    targets = torch.tensor(y_train, dtype=torch.float32).reshape(-1, 1)
    start = time.perf_counter()
    for _ in range(100):
        loss = torch.nn.functional.binary_cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        predicted = (model(torch.tensor(X_test, dtype=torch.float32)) > 0.5).float()
        theirs = (predicted.numpy()[:, 0] == y_test).mean()
    print(f"PyTorch  test accuracy {theirs:.4f}  ({time.perf_counter() - start:.2f} s)")
    assert abs(ours - theirs) <= 0.02, (ours, theirs)
    assert np.isfinite(ours)
