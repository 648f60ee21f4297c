"""Learning: loss lenses, optimiser lenses, and training as their composite."""

from . import losses as losses
from . import optim as optim
from ._callbacks import EarlyStopping as EarlyStopping
from ._curves import history_table as history_table
from ._curves import plot_history as plot_history
from ._evaluate import evaluate as evaluate
from ._fit import FitResult as FitResult
from ._fit import fit as fit
from ._paths import output_path as output_path
from ._paths import run_paths as run_paths
from ._training import train_step as train_step
from .losses import Loss as Loss
from .optim import Optimiser as Optimiser

__all__ = [
    "EarlyStopping",
    "FitResult",
    "Loss",
    "Optimiser",
    "evaluate",
    "fit",
    "history_table",
    "losses",
    "optim",
    "plot_history",
    "train_step",
]
