"""Training curves: a ``fit`` history drawn as a PNG (or SVG/PDF) with
matplotlib, headless.

One panel for the loss (training and, with validation data, validation), one
for accuracy (training, validation, and the accuracy of the discretized
circuit for logic networks trained under ``Smooth``), and one for the
discretization gap (relaxed minus circuit accuracy) when the history has it;
and the history as a text table (:func:`history_table`).

>>> import os, tempfile
>>> from catlearn.learn import plot_history
>>> history = [{"epoch": 1.0, "loss": 0.9, "accuracy": 0.5},
...            {"epoch": 2.0, "loss": 0.4, "accuracy": 0.8}]
>>> path = os.path.join(tempfile.mkdtemp(), "curves.png")
>>> plot_history(history, path)
>>> os.path.getsize(path) > 0
True
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from .._errors import ShapeError
from ._paths import plot_path

_PANELS = (
    ("loss", (("loss", "training"), ("val_loss", "validation"))),
    (
        "accuracy",
        (
            ("accuracy", "training"),
            ("val_accuracy", "validation"),
            ("discrete_accuracy", "circuit (training)"),
            ("val_discrete_accuracy", "circuit (validation)"),
        ),
    ),
    (
        "discretization gap",
        (
            ("discretization_gap", "training"),
            ("val_discretization_gap", "validation"),
        ),
    ),
)


def plot_history(
    history: Sequence[dict[str, float]],
    path: str | os.PathLike[str],
    title: str | None = None,
) -> None:
    """Draw ``history`` (``FitResult.history``: one dict per epoch) to
    ``path``; the format follows the suffix (``.png``, ``.svg``, ``.pdf``).
    The file is replaced atomically, so a viewer never sees half a picture.
    A path that cannot be written fails first (``ShapeError`` for the
    suffix, :class:`catlearn.io.SaveError` for a missing directory or a
    directory), before anything is drawn."""
    path = plot_path(path, "plot", "plot_history")
    suffix = os.path.splitext(path)[1].lower()
    if not history:
        raise ShapeError(
            f"cannot draw training curves to {path!r}: the history is empty. "
            "Fix: train for at least one epoch."
        )
    from matplotlib.figure import Figure  # no pyplot: no display, no global state
    from matplotlib.ticker import MaxNLocator

    panels = [
        (title_, [(k, label) for k, label in series if any(k in r for r in history)])
        for title_, series in _PANELS
    ]
    panels = [p for p in panels if p[1]]
    fig = Figure(figsize=(4.5 * len(panels), 3.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    for ax, (name, series) in zip(axes, panels, strict=True):
        for key, label in series:
            ax.plot(
                epochs,
                [row.get(key, float("nan")) for row in history],
                marker="o" if sum(key in r for r in history) < 30 else None,
                markersize=3,
                label=label,
            )
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name)
        ax.grid(alpha=0.3)
        if name == "accuracy":
            ax.set_ylim(min(0.0, ax.get_ylim()[0]), max(1.0, ax.get_ylim()[1]))
        if name == "discretization gap":
            ax.axhline(0.0, color="grey", linewidth=0.8)
        if len(series) > 1:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".curves.", suffix=suffix)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def history_table(history: Sequence[dict[str, float]]) -> str:
    """The history as aligned text columns, for printing."""
    if not history:
        return ""
    keys = list(history[0])
    lines = ["  ".join(f"{k:>12}" for k in keys)]
    for row in history:
        lines.append("  ".join(f"{row.get(k, float('nan')):>12.4f}" for k in keys))
    return "\n".join(lines)
