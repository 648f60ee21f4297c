"""What ``cl.fit`` calls after each epoch: the user's ``on_epoch_end`` and
early stopping (:class:`EarlyStopping`), which keeps the best parameters.

>>> import numpy as np, catlearn as cl
>>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
>>> y = (X[:, 0] > 0).astype(np.int32)
>>> seen = []
>>> stop = cl.learn.EarlyStopping("val_loss", patience=2)
>>> r = cl.fit(cl.nn.mlp([3, 8, 2]), (X, y), validation=(X, y), epochs=50,
...            progress=False, on_epoch_end=lambda row: seen.append(row["epoch"]),
...            early_stopping=stop)
>>> len(seen) == len(r.history) and r.best_epoch == stop.best_epoch
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._errors import ShapeError

MODES = ("min", "max")


@dataclass
class EarlyStopping:
    """Stop training when ``monitor`` (a history key, e.g. ``"val_loss"`` or
    ``"val_accuracy"``) has not improved by more than ``min_delta`` for
    ``patience`` epochs. ``mode``: ``"min"`` or ``"max"``; by default
    ``"max"`` for accuracies, ``"min"`` otherwise. With ``restore_best``
    (the default) ``fit`` returns the parameters of the best epoch
    (``FitResult.best_epoch``), not the last."""

    monitor: str = "val_loss"
    patience: int = 5
    min_delta: float = 0.0
    mode: str | None = None
    restore_best: bool = True
    best: float = field(default=math.nan, init=False)
    best_epoch: int = field(default=0, init=False)
    best_params: Any = field(default=None, init=False, repr=False)
    waited: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.mode is None:
            self.mode = "max" if "accuracy" in self.monitor else "min"
        if self.mode not in MODES:
            raise ShapeError(
                f"EarlyStopping: mode={self.mode!r} is not one of {MODES}. Fix: "
                "'min' for a loss, 'max' for an accuracy (or leave it out)."
            )
        ok = isinstance(self.patience, int) and not isinstance(self.patience, bool)
        if not ok or self.patience < 0:
            raise ShapeError(
                f"EarlyStopping: patience={self.patience!r} must be an int >= 0. "
                "Fix: e.g. patience=5 (epochs without improvement)."
            )

    def check(self, history_key_names: Any) -> None:
        """Refuse (before training) a ``monitor`` the history will not have."""
        if self.monitor.startswith("val_") and not history_key_names["validation"]:
            raise ShapeError(
                f"EarlyStopping(monitor={self.monitor!r}) needs validation data, "
                "but fit was given none. Fix: pass validation=(X_val, Y_val) "
                "(carved from the training data), or monitor='loss'."
            )

    def update(self, row: dict[str, float], params: Any) -> bool:
        """Record epoch ``row`` (and its ``params``); whether to stop now."""
        if self.monitor not in row:
            raise ShapeError(
                f"EarlyStopping: the history has no {self.monitor!r} (it has "
                f"{sorted(row)}). Fix: monitor one of those."
            )
        value = row[self.monitor]
        better = (value < self.best - self.min_delta if self.mode == "min"
                  else value > self.best + self.min_delta)
        if math.isnan(self.best) or better:
            self.best, self.best_epoch, self.waited = value, int(row["epoch"]), 0
            self.best_params = params
            return False
        self.waited += 1
        return self.waited >= self.patience


Callback = Callable[[dict[str, float]], Any]


def check_callback(on_epoch_end: Any) -> None:
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise ShapeError(
            f"fit: on_epoch_end={on_epoch_end!r} is not callable. Fix: a function "
            "taking the epoch's history row (a dict), e.g. lambda row: print(row); "
            "it may return True to stop training."
        )
