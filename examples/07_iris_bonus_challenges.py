"""The bonus challenges of the notes' iris mini project:

1. experiment with different architectures (compared by 5-fold cross-validation: each
   accuracy with its spread over the folds, not one lucky split);
2. add dropout for regularization (a wide network on few rows overfits; the training and
   validation curves with and without dropout show what dropout does);
3. try different learning rates (SGD's loss curves on one plot, and the one that diverges);
4. plot decision boundaries (of the best architecture, over the petal measurements).

    python examples/07_iris_bonus_challenges.py [folder for the PNGs, default .]

It takes a few seconds (the first run compiles each architecture's kernels, then they are
cached). The plots need matplotlib: pip install 'symprop[plot]'.
"""

import os
import sys

import numpy as np
from matplotlib.figure import Figure

import symprop as sp

folder = sys.argv[1] if len(sys.argv) > 1 else "."
X, y = sp.load_dataset("iris")
FEATURES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")
CLASSES = ("setosa", "versicolor", "virginica")


def scaled(X_train, X_other):
    """Standardized with the training rows' means and deviations only."""
    scaler = sp.Standardizer().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_other)


def save(figure, name):
    path = os.path.join(folder, name)
    figure.savefig(path, dpi=110)
    print(f"  written to {path}")


# -- 1. architectures, by 5-fold cross-validation ----------------------------------------------
ARCHITECTURES = {
    "4-3:softmax (no hidden layer)": lambda: [sp.Dense(4, 3, "softmax")],
    "4-8:relu-3:softmax (the notes')": lambda: [sp.Dense(4, 8, "relu"),
                                                sp.Dense(8, 3, "softmax")],
    "4-8:tanh-3:softmax": lambda: [sp.Dense(4, 8, "tanh"), sp.Dense(8, 3, "softmax")],
    "4-32:relu-32:relu-3:softmax": lambda: [sp.Dense(4, 32, "relu"),
                                            sp.Dense(32, 32, "relu"),
                                            sp.Dense(32, 3, "softmax")],
}
print("1. architectures: test accuracy over 5 stratified folds (Adam 0.01, 200 epochs)")
scores = {}
for name, layers in ARCHITECTURES.items():
    accuracies = []
    for train, test in sp.kfold_indices(y, 5, seed=0):
        X_train, X_test = scaled(X[train], X[test])
        net = sp.Network(layers(), loss="ce", seed=0)
        net.fit(X_train, y[train], epochs=200, batch_size=16, optimizer=sp.Adam(lr=0.01),
                verbose=False)
        accuracies.append(net.evaluate(X_test, y[test])["accuracy"])
    scores[name] = (np.mean(accuracies), np.std(accuracies, ddof=1))
    print(f"  {name:34s} accuracy {scores[name][0]:.3f} +/- {scores[name][1]:.3f}")
best = max(scores, key=lambda name: scores[name][0])
print(f"  best: {best}")

# -- 2. dropout: a wide network on 45 rows, with and without ------------------------------------
X_train, X_val, y_train, y_val = sp.train_test_split(X, y, test_size=0.7, seed=0)
X_train, X_val = scaled(X_train, X_val)
print("2. dropout: 4-64:relu-64:relu-3:softmax on 45 rows, validated on the other 105")
figure = Figure(figsize=(10, 3.8))
axes = figure.subplots(1, 2, sharey=True)
for axis, rate in zip(axes, (0.0, 0.5), strict=True):
    net = sp.Network([sp.Dense(4, 64, "relu", dropout=rate),
                      sp.Dense(64, 64, "relu", dropout=rate), sp.Dense(64, 3, "softmax")],
                     loss="ce", seed=0)
    history = net.fit(X_train, y_train, epochs=300, batch_size=8, optimizer=sp.Adam(lr=0.01),
                      validation_data=(X_val, y_val), verbose=False)
    epochs = range(1, history.epochs + 1)
    axis.plot(epochs, history["loss"], label="training loss")
    axis.plot(epochs, history["val_loss"], label="validation loss")
    axis.set_title(f"dropout {rate}: validation accuracy {history['val_accuracy'][-1]:.3f}")
    axis.set_xlabel("epoch")
    axis.legend()
    print(f"  dropout {rate}: last epoch's training loss {history['loss'][-1]:.4f}, "
          f"validation loss {history['val_loss'][-1]:.4f} (lowest "
          f"{min(history['val_loss']):.4f}), validation accuracy "
          f"{history['val_accuracy'][-1]:.3f}")
axes[0].set_ylabel("cross-entropy")
figure.tight_layout()
save(figure, "iris_dropout.png")

# -- 3. learning rates ------------------------------------------------------------------------
X_train, X_test, y_train, y_test = sp.train_test_split(X, y, test_size=0.2, seed=0)
X_train, X_test = scaled(X_train, X_test)
print("3. learning rates: SGD on 4-8:relu-3:softmax, 100 epochs")
figure = Figure(figsize=(6.4, 4.2))
axis = figure.subplots()
for lr in (0.001, 0.01, 0.1, 1.0, 5.0, 20.0):
    net = sp.Network(ARCHITECTURES["4-8:relu-3:softmax (the notes')"](), loss="ce", seed=0)
    try:
        history = net.fit(X_train, y_train, epochs=100, batch_size=16,
                          optimizer=sp.SGD(lr=lr), verbose=False)
    except sp.TrainingError as error:  # too large a step: the loss became NaN
        print(f"  lr {lr:<6g} diverged: {error}")
        continue
    axis.plot(range(1, history.epochs + 1), history["loss"], label=f"lr {lr:g}")
    print(f"  lr {lr:<6g} training loss after 100 epochs {history['loss'][-1]:.4f}, test "
          f"accuracy {net.evaluate(X_test, y_test)['accuracy']:.3f}")
axis.set_yscale("log")
axis.set_xlabel("epoch")
axis.set_ylabel("training loss (cross-entropy)")
axis.legend()
figure.tight_layout()
save(figure, "iris_learning_rates.png")

# -- 4. the decision boundary of the best architecture ------------------------------------------
print(f"4. decision boundary of {best}, over the petal measurements")
X_train, X_test, y_train, y_test = sp.train_test_split(X, y, test_size=0.2, seed=0)
scaler = sp.Standardizer().fit(X_train)
net = sp.Network(ARCHITECTURES[best](), loss="ce", seed=0)
net.fit(scaler.transform(X_train), y_train, epochs=200, batch_size=16,
        optimizer=sp.Adam(lr=0.01), verbose=False)
print(f"  test accuracy {net.evaluate(scaler.transform(X_test), y_test)['accuracy']:.3f}")
path = os.path.join(folder, "iris_boundary.png")
net.plot_boundary(X_train, y_train, X_test, y_test, columns=(2, 3), scaler=scaler,
                  hidden_units=len(net.layers) == 2, feature_names=FEATURES,
                  class_names=CLASSES, path=path, title=best)
print(f"  written to {path}")
