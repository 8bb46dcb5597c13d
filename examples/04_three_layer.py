"""The notes' 3-layer network (relu, relu, sigmoid, BCE): its backpropagation derived and
printed, then trained on the breast-cancer data set."""

import symprop as sp

net = sp.Network([sp.Dense(30, 16, "relu"), sp.Dense(16, 8, "relu"), sp.Dense(8, 1, "sigmoid")],
                 loss="bce", seed=0)
print(net.derivation().text())

X, y = sp.load_dataset("breast_cancer")
X_train, X_test, y_train, y_test = sp.train_test_split(X, y, test_size=0.2, seed=0)
scaler = sp.Standardizer().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
net.fit(X_train, y_train, epochs=50, batch_size=32, optimizer=sp.Adam(lr=0.005), verbose=False)
result = net.evaluate(X_test, y_test)
print(f"test loss {result['loss']:.4f}, test accuracy {result['accuracy']:.4f}")
assert result["accuracy"] > 0.9
