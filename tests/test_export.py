"""catlearn.export against the real tools: iverilog simulates the Verilog bit
for bit against cl.Boolean(), yosys synthesises it, ABC proves the AIGER, the
BLIF and the folded circuit equivalent. The tools are not optional: ``make
tools`` installs them (Debian: iverilog yosys berkeley-abc)."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

import catlearn as cl
from catlearn.datasets import load_monk
from catlearn.export import (
    ExportError,
    circuit,
    export,
    netlist,
    to_aiger,
    to_blif,
    to_verilog,
)
from catlearn.logic import gate


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed; the export tests run it. Fix: `make tools` "
            "as root, or apt-get install -y iverilog yosys berkeley-abc."
        )
    return path


def _run(*args: str, cwd) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{out}"
    return out


def _random_params(diagram, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    types = cl.Boolean()(diagram).param_types
    return {n: rng.random(int(np.prod(t.shape))) < 0.5 for n, t in types.items()}


def _vectors(n_in: int, n_random: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.random((n_random, n_in)) < 0.5
    if n_in <= 10:  # every input vector too
        grid = (np.arange(2**n_in)[:, None] >> np.arange(n_in)) & 1
        X = np.concatenate([grid.astype(bool), X])
    return X


def _simulate(verilog: str, X: np.ndarray, n_out: int, tmp_path) -> np.ndarray:
    """Run the module under iverilog on the rows of X; y as bools."""
    n_in = X.shape[1]
    lines = [
        "module tb;",
        f"  reg [{n_in - 1}:0] x;",
        f"  wire [{n_out - 1}:0] y;",
        "  catlearn_net dut(.x(x), .y(y));",
        "  initial begin",
    ]
    for row in X:  # a Verilog literal is written most significant bit first
        bits = "".join("1" if b else "0" for b in row[::-1])
        lines.append(f'    x = {n_in}\'b{bits}; #1 $display("%b", y);')
    lines += ["  end", "endmodule"]
    (tmp_path / "net.v").write_text(verilog)
    (tmp_path / "tb.v").write_text("\n".join(lines) + "\n")
    _run(_tool("iverilog"), "-o", "sim", "net.v", "tb.v", cwd=tmp_path)
    out = _run(_tool("vvp"), "-n", "sim", cwd=tmp_path)
    rows = [ln for ln in out.splitlines() if re.fullmatch(r"[01]+", ln)]
    assert len(rows) == len(X), out
    return np.array([[c == "1" for c in r[::-1]] for r in rows])


def _yosys_cells(verilog: str, tmp_path) -> int:
    (tmp_path / "syn.v").write_text(verilog)
    out = _run(_tool("yosys"), "-p", "read_verilog syn.v; synth; stat", cwd=tmp_path)
    counts = re.findall(r"Number of cells:\s+(\d+)", out)
    assert counts, f"no cell count in yosys' output:\n{out[-2000:]}"
    return int(counts[-1])


def _cec(a: str, b: str, tmp_path) -> str:
    return _run(_tool("berkeley-abc"), "-c", f"cec {a} {b}", cwd=tmp_path)


def _aag_to_blif(aag: str, tmp_path) -> str:
    """ABC 1.01 cannot read ASCII AIGER; yosys' read_aiger does."""
    (tmp_path / "c.aag").write_text(aag)
    cmd = "read_aiger -module_name aag c.aag; write_blif aag.blif"
    _run(_tool("yosys"), "-q", "-p", cmd, cwd=tmp_path)
    return "aag.blif"


def _fixed_gates():
    """NOT((a AND b) XOR (c OR d)), NOT e and ONE, on 2-bit wires."""
    core = (gate("AND", 2) @ gate("OR", 2)) >> gate("XOR", 2) >> gate("NOT", 2)
    return core @ gate("NOT", 2) @ cl.logic.ONE


RANDOM_NETS = [(cl.logic.network(6, [8, 8, 4], None, seed=s), s) for s in (0, 1)]


@pytest.fixture(scope="module")
def monk():
    X, y = load_monk(1, "train")
    d = cl.logic.network(17, [64, 64], 2, seed=0)
    res = cl.fit(
        d, (X, y), semantics=cl.Boolean(), loss=cl.losses.hamming,
        optimiser=cl.optim.rda(), epochs=2, batch_size=16, progress=False,
    )  # fmt: skip
    return d, {k: np.asarray(v) for k, v in res.params.items()}, X


# -- the netlist computes what Boolean computes --------------------------------


@pytest.mark.parametrize("fold", [False, True])
def test_iverilog_matches_boolean_on_random_networks(fold, tmp_path):
    for d, seed in RANDOM_NETS:
        p, X = _random_params(d, seed), _vectors(6, seed=seed)
        want = np.asarray(cl.Boolean()(d)(p, X))
        got = _simulate(to_verilog(d, p, fold=fold), X, 4, tmp_path)
        assert (got == want).all(), f"seed {seed}: {np.argwhere(got != want)[:5]}"


def test_iverilog_matches_boolean_on_fixed_gates(tmp_path):
    d = _fixed_gates()
    X = _vectors(10)
    want = np.concatenate(
        [np.asarray(y) for y in cl.Boolean()(d)({}, *np.split(X, 5, 1))], 1
    )
    for fold in (False, True):
        got = _simulate(to_verilog(d, {}, fold=fold), X, 5, tmp_path)
        assert (got == want).all()
    assert netlist(d, {}).gate_counts() == {"AND": 2, "NOT": 4, "OR": 2, "XOR": 2}


def test_iverilog_matches_trained_monk_before_group_sum(monk, tmp_path):
    d, p, X = monk
    net = circuit(d, p)
    assert net.groups == ((0, 64, 2),)
    bits = cl.logic.network(17, [64, 64], None, seed=0)  # the same, no read-out
    want = np.asarray(cl.Boolean()(bits)(p, X))
    got = _simulate(to_verilog(d, p), X, 64, tmp_path)
    assert (got == want).all()
    counts = got.reshape(len(X), 2, 32).sum(-1)  # the read-out, from the circuit
    assert (counts == np.asarray(cl.Boolean()(d)(p, X))).all()
    assert "read-out: group_sum of y[0..63] into 2 groups of 32 bits" in to_blif(d, p)


# -- folding --------------------------------------------------------------------


def test_folding_shrinks_and_preserves(monk):
    d, p, X = monk
    raw, folded = netlist(d, p), circuit(d, p)
    assert raw.n_gates == 128 and 0 < folded.n_gates <= raw.n_gates
    assert (raw.evaluate(X) == folded.evaluate(X)).all()
    twice = gate("NOT") >> gate("NOT")
    assert netlist(twice, {}).n_gates == 2 and circuit(twice, {}).n_gates == 0
    zero = cl.logic.ZERO @ cl.bits(1) >> cl.logic.AND  # 0 AND x = 0
    assert circuit(zero, {}).nodes[circuit(zero, {}).outputs[0]].op == "const"


# -- yosys ----------------------------------------------------------------------


def test_yosys_synthesises(monk, tmp_path):
    d, p, _ = monk
    for diagram, params in [
        (d, p),
        (RANDOM_NETS[0][0], _random_params(*RANDOM_NETS[0])),
    ]:
        net = circuit(diagram, params)
        cells = _yosys_cells(to_verilog(diagram, params), tmp_path)
        print(f"yosys: {cells} cells for {net.n_gates} exported gates")
        # one 2-input function is at most one cell of yosys' library plus a NOT
        assert 0 < cells <= 2 * net.n_gates + len(net.outputs)


# -- ABC: AIGER == BLIF, folded == unfolded -----------------------------------


def test_abc_proves_aiger_blif_and_folding_equivalent(monk, tmp_path):
    d, p, _ = monk
    (tmp_path / "raw.blif").write_text(to_blif(d, p, fold=False))
    (tmp_path / "fold.blif").write_text(to_blif(d, p))
    out = _cec("fold.blif", "raw.blif", tmp_path)
    assert "Networks are equivalent" in out, out
    aag = _aag_to_blif(to_aiger(d, p), tmp_path)
    out = _cec(aag, "raw.blif", tmp_path)
    assert "Networks are equivalent" in out, out
    # and ABC does tell circuits apart: flip one table bit of the first layer
    q = dict(p)
    q["net.0.table"] = p["net.0.table"].copy()
    q["net.0.table"][: 4 * 64] = ~q["net.0.table"][: 4 * 64]
    (tmp_path / "other.blif").write_text(to_blif(d, q))
    assert "Networks are equivalent" not in _cec("other.blif", "raw.blif", tmp_path)


def test_abc_aiger_of_fixed_gates(tmp_path):
    d = _fixed_gates()
    (tmp_path / "g.blif").write_text(to_blif(d, {}, fold=False))
    aag = _aag_to_blif(to_aiger(d, {}, fold=False), tmp_path)
    assert "Networks are equivalent" in _cec(aag, "g.blif", tmp_path)


# -- files ----------------------------------------------------------------------


def test_export_picks_the_format_from_the_suffix(tmp_path):
    d, seed = RANDOM_NETS[0]
    p = _random_params(d, seed)
    for suffix, first in [(".v", "//"), (".blif", "#"), (".aag", "aag ")]:
        rep = export(tmp_path / f"net{suffix}", d, p)
        assert (tmp_path / f"net{suffix}").read_text().startswith(first)
        assert rep.gates_before == 20 and 0 < rep.gates_after <= 20
        assert (rep.n_inputs, rep.n_outputs, rep.groups) == (6, 4, ())
    with pytest.raises(ExportError, match="suffix"):
        export(tmp_path / "net.txt", d, p)
    with pytest.raises(cl.ParamError, match="missing"):
        to_verilog(d, {})
