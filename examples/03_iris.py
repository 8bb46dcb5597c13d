"""The notes' mini project: iris, 4-8 relu-3 softmax, 200 epochs, > 90% test accuracy, and
the loss curve as a PNG (needs matplotlib: pip install 'symprop[plot]')."""

import sys

import symprop as sp
from symprop.runtime.plotting import plot_history

X, y = sp.load_dataset("iris")
X_train, X_test, y_train, y_test = sp.train_test_split(X, y, test_size=0.2, seed=1)
scaler = sp.Standardizer().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

net = sp.Network([sp.Dense(4, 8, "relu"), sp.Dense(8, 3, "softmax")], loss="ce", seed=0)
history = net.fit(X_train, y_train, epochs=200, batch_size=16, optimizer=sp.Adam(lr=0.01),
                  verbose=False)
result = net.evaluate(X_test, y_test)
print(f"test loss {result['loss']:.4f}, test accuracy {result['accuracy']:.4f}")
path = sys.argv[1] if len(sys.argv) > 1 else "iris_loss.png"
plot_history(history, path, "iris: 4-8:relu-3:softmax")
print(f"loss curve written to {path}")
assert result["accuracy"] > 0.9
