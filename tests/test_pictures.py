"""Pictures: fit's training curves (loss, accuracy, discretization gap) and
diagram drawings in which parameter boxes stand out from data boxes."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest

import catlearn as cl
from catlearn.datasets import load_iris, load_monk
from catlearn.learn import plot_history


def _green(path):
    """How many pixels of the picture are the parameter boxes' green."""
    rgb = matplotlib.image.imread(path)[..., :3]
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(np.sum((g > 0.75) & (g - r > 0.05) & (g - b > 0.05)))


def test_parameter_boxes_are_drawn_apart(tmp_path):
    with_params = cl.nn.mlp([4, 8, 3])
    without = cl.nn.relu(4) >> cl.nn.tanh(4)
    with_params.draw(tmp_path / "mlp.png")
    without.draw(tmp_path / "plain.png")
    assert _green(tmp_path / "mlp.png") > 500  # four filled parameter boxes
    assert _green(tmp_path / "plain.png") == 0
    params = [b for b in with_params.boxes if isinstance(b, cl.Param)]
    assert len(params) == 4 and {b.color for b in params} == {"green"}


def _logic_fit(tmp_path, **kw):
    X, y = load_monk(1, "train")
    Xt, yt = load_monk(1, "test")
    net = cl.logic.network(17, [32, 32], 2, seed=0)
    res = cl.fit(net, (X.astype(np.float32), y), optimiser=cl.optim.adam(0.05),
                 epochs=3, batch_size=32, progress=False,
                 validation=(Xt.astype(np.float32), yt), **kw)
    return net, (X, y), res


def test_logic_history_records_the_discretization_gap(tmp_path):
    net, (X, y), res = _logic_fit(tmp_path)
    last = res.history[-1]
    scores = cl.evaluate(net, res.params, (X.astype(np.float32), y))
    assert last["discrete_accuracy"] == scores["discrete_accuracy"]
    assert last["discretization_gap"] == pytest.approx(scores["discretization_gap"])
    Xt, yt = load_monk(1, "test")
    val = cl.evaluate(net, res.params, (Xt.astype(np.float32), yt))
    assert last["val_discrete_accuracy"] == val["discrete_accuracy"]
    mlp = cl.fit(cl.nn.mlp([4, 3]), load_iris(), epochs=1, progress=False)
    assert "discretization_gap" not in mlp.history[-1]  # not a logic network


def test_fit_draws_training_curves(tmp_path):
    _, _, res = _logic_fit(tmp_path, plot=tmp_path / "curves.png")
    png = tmp_path / "curves.png"
    image = matplotlib.image.imread(png)
    assert image.shape[1] > 2.5 * image.shape[0]  # three panels side by side
    mlp = cl.fit(cl.nn.mlp([4, 3]), load_iris(), epochs=2, progress=False,
                 plot=tmp_path / "mlp.svg")
    svg = (tmp_path / "mlp.svg").read_text()
    assert "<svg" in svg and "accuracy" in svg and "discretization" not in svg
    assert len(mlp.history) == 2


def test_plot_history_errors(tmp_path):
    with pytest.raises(cl.ShapeError, match="suffix must be .png"):
        plot_history([{"epoch": 1.0, "loss": 1.0}], tmp_path / "curves.txt")
    with pytest.raises(cl.ShapeError, match="history is empty"):
        plot_history([], tmp_path / "curves.png")
    assert not list(tmp_path.iterdir())  # nothing written on failure
