"""Stage 3 of symprop: trainable networks assembled from the generated kernels."""

from symprop.runtime.blocks import BatchNorm, LayerNorm, Residual
from symprop.runtime.data import (
    Standardizer,
    kfold_indices,
    load_csv,
    load_dataset,
    one_hot,
    train_test_split,
)
from symprop.runtime.layers import Dense
from symprop.runtime.model_io import load
from symprop.runtime.network import Network
from symprop.runtime.optimizers import SGD, Adam, RMSprop
from symprop.runtime.training import History

__all__ = ["SGD", "Adam", "BatchNorm", "Dense", "History", "LayerNorm", "Network", "RMSprop",
           "Residual", "Standardizer", "kfold_indices", "load", "load_csv", "load_dataset",
           "one_hot", "train_test_split"]
