"""cl.logic.count: a circuit's gates as built and after folding, and the
LUT-6 count yosys and ABC map it to, the group_sum counters included."""

from __future__ import annotations

import numpy as np
import pytest

import catlearn as cl
from catlearn.export import Count, circuit
from catlearn.export import _count as count_module


def random_params(diagram, seed=0):
    rng = np.random.default_rng(seed)
    types = cl.Boolean()(diagram).param_types
    return {n: rng.random(t.shape) < 0.5 for n, t in types.items()}


def test_a_hand_circuit_is_counted_exactly():
    d = cl.logic.lut_layer(2, 2, wiring=([0, 0], [1, 1]))  # AND and XOR of x0, x1
    p = {"lut_layer.table": np.array([0, 0, 0, 1, 0, 1, 1, 0], bool)}
    c = cl.logic.count(d, p)
    assert (c.gates, c.gates_folded, c.by_kind) == (2, 2, {"AND": 1, "XOR": 1})
    assert (c.inputs, c.outputs, c.groups) == (2, 2, 0)
    assert c.luts == c.luts_logic == 2  # one LUT per output: nothing to share
    assert "2 LUT-6" in str(c)


def test_a_network_with_its_read_out():
    d = cl.logic.network(17, [64, 32], n_classes=2, seed=3)
    p = random_params(d)
    c = cl.logic.count(d, p)
    assert isinstance(c, Count) and c.gates == 64 + 32
    assert c.gates_folded == circuit(d, p).n_gates <= c.gates
    assert sum(c.by_kind.values()) == c.gates_folded
    assert c.groups == 2 and c.outputs == 32
    # the two 16-bit popcounts cost LUTs of their own
    assert c.luts > c.luts_logic > 0
    small = cl.logic.count(d, p, k=4)
    assert small.luts >= c.luts  # smaller LUTs: at least as many


def test_the_counters_are_adders_over_each_class():
    d = cl.logic.network(6, [8], n_classes=2, seed=0)
    text = count_module.counter_module(circuit(d, random_params(d)))
    assert "assign c[2:0] = y[0] + y[1] + y[2] + y[3];" in text
    assert "assign c[5:3] = y[4] + y[5] + y[6] + y[7];" in text


def test_without_luts_no_tool_runs(monkeypatch):
    monkeypatch.setattr(count_module.shutil, "which", lambda name: None)
    d = cl.logic.network(4, [6], n_classes=2, seed=0)
    c = cl.logic.count(d, random_params(d), luts=False)
    assert c.luts is None and "LUT" not in str(c)
    with pytest.raises(cl.ExportError, match="yosys is not installed.*Fix:"):
        cl.logic.count(d, random_params(d))


@pytest.mark.parametrize("k", [1, 9, 6.0, True])
def test_a_bad_lut_size_is_refused(k):
    d = cl.logic.network(4, [6], n_classes=2, seed=0)
    with pytest.raises(cl.ExportError, match=r"k=.*Fix: an int from 2 to 8"):
        cl.logic.count(d, random_params(d), k=k)
