"""Hardening (issue 12), the settings a user types: circuit names, output
paths and seeds, through the library and the ``catlearn`` command.

Each attack is one test. Every one must end in a ``catlearn.CatlearnError``
(on the command line: one line on stderr, status 1 or 2) that names the fix,
before any work is done: no training step, no file written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import catlearn as cl
from catlearn._cli import _commands
from catlearn._cli import _specs as specs
from catlearn.cli import main
from catlearn.export import ExportError, export, to_aiger, to_blif, to_verilog
from catlearn.io import MissingFileError, SaveError
from catlearn.learn import _fit

MLP = cl.nn.mlp([3, 2])
DATA = (np.eye(3, dtype=np.float32).repeat(4, axis=0), np.arange(12) % 2)
NET = ["--dataset", "monk1", "--model", "network:8"]


def _error_line(err: str, prog: str) -> str:
    """The one line a failed command prints, which names a fix."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _listing(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def no_training(monkeypatch):
    """Counts what ``cl.fit`` and ``catlearn train`` would do before they
    fail: data loaded or checked (after compiling), and training epochs."""
    calls: list[str] = []
    run = _fit.Run.__call__
    check = _fit.check_data

    def spy_run(self, *args, **kwargs):
        calls.append("train")
        return run(self, *args, **kwargs)

    def spy_check(*args, **kwargs):
        calls.append("compile")
        return check(*args, **kwargs)

    def spy(name, f):
        def wrapped(*args, **kwargs):
            calls.append(name)
            return f(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(_fit.Run, "__call__", spy_run)
    monkeypatch.setattr(_fit, "check_data", spy_check)
    monkeypatch.setattr(specs, "load_data", spy("load data", specs.load_data))
    monkeypatch.setattr(_commands, "fit", spy("fit", _commands.fit))
    return calls


# -- export names (Verilog module, BLIF model, --name) ------------------------------
CRAFTED = (
    "catlearn_net(x, y); input [1:0] x; output [0:0] y; assign y = 1'b1; "
    "endmodule\nmodule unused"
)


def _simulate(verilog: str, X: np.ndarray, tmp_path) -> str:
    """The outputs of ``catlearn_net`` under iverilog, one bit per row of X."""
    tools = {t: shutil.which(t) for t in ("iverilog", "vvp")}
    if None in tools.values():
        pytest.fail("iverilog is not installed. Fix: `make tools` as root")
    n = X.shape[1]
    tb = ["module tb;", f"  reg [{n - 1}:0] x;", "  wire [0:0] y;",
          "  catlearn_net dut(.x(x), .y(y));", "  initial begin"]  # fmt: skip
    for row in X:  # most significant bit first
        bits = "".join("1" if b else "0" for b in row[::-1])
        tb.append(f'    x = {n}\'b{bits}; #1 $display("%b", y);')
    tb += ["  end", "endmodule"]
    (tmp_path / "net.v").write_text(verilog)
    (tmp_path / "tb.v").write_text("\n".join(tb) + "\n")
    for cmd in ([tools["iverilog"], "-o", "sim", "net.v", "tb.v"],
                [tools["vvp"], "-n", "sim"]):  # fmt: skip
        done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    return "".join(ln for ln in done.stdout.splitlines() if re.fullmatch("[01]", ln))


def test_a_crafted_module_name_cannot_inject_verilog(tmp_path):
    d = cl.logic.AND
    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=bool)
    want = "".join(
        "1" if b else "0" for b in np.asarray(cl.Boolean()(d)({}, X[:, :1], X[:, 1:]))
    )
    assert want == "0001"
    honest = to_verilog(d, {})
    for folder in ("ok", "bad", "out"):
        (tmp_path / folder).mkdir()
    assert _simulate(honest, X, tmp_path / "ok") == want
    # The attack is real: written as it was, the name replaces the circuit.
    injected = honest.replace("module catlearn_net(", f"module {CRAFTED}(")
    assert _simulate(injected, X, tmp_path / "bad") == "1111"
    # Now every way in refuses it, and nothing is written.
    out = tmp_path / "out"
    for write in (
        lambda: to_verilog(d, {}, module=CRAFTED),
        lambda: export(out / "net.v", d, {}, name=CRAFTED),
        lambda: export(out / "net.v", d, {}, format="verilog", name=CRAFTED),
    ):
        with pytest.raises(ExportError, match=r"must be an identifier.*Fix: e\.g\."):
            write()
    assert _listing(out) == []


NAMES = [
    # name, refused for verilog, refused for blif/aiger, a word of the message
    ("", True, True, "is empty"),
    ("my net", True, True, "contains ' '"),
    ("1net", True, True, "starts with '1'"),
    ("net\n.names x0 y0", True, True, "contains"),
    ("a#b", True, True, "contains '#'"),  # a BLIF comment
    (".end", True, True, "contains '.'"),  # BLIF's keywords start with .
    ("x" * 1025, True, True, "more than the 1024"),
    (None, True, True, "must be a str"),
    (3, True, True, "must be a str"),
    ("module", True, False, "is a Verilog keyword"),
    ("endmodule", True, False, "is a Verilog keyword"),
    ("logic", True, False, "is a SystemVerilog keyword"),
    ("net_2$a", False, False, ""),
]


@pytest.mark.parametrize(("name", "bad_v", "bad_other", "word"), NAMES,
                         ids=[repr(n[0])[:20] for n in NAMES])  # fmt: skip
def test_module_and_model_names_must_be_identifiers(
    name, bad_v, bad_other, word, tmp_path
):
    d = cl.logic.XOR
    cases = [
        (bad_v, lambda: to_verilog(d, {}, module=name), "module="),
        (bad_v, lambda: export(tmp_path / "n.v", d, {}, name=name), "name="),
        (bad_other, lambda: to_blif(d, {}, model=name), "model="),
        (bad_other, lambda: export(tmp_path / "n.blif", d, {}, name=name), "name="),
        (bad_other, lambda: export(tmp_path / "n.aag", d, {}, name=name), "name="),
    ]
    for refused, write, fix in cases:
        if not refused:
            write()
            continue
        with pytest.raises(ExportError) as info:
            write()
        message = str(info.value)
        assert word in message and f"Fix: e.g. {fix}" in message
    written = {"n.v"} if not bad_v else set()
    written |= {"n.blif", "n.aag"} if not bad_other else set()
    assert set(_listing(tmp_path)) == written
    assert to_aiger(d, {}).startswith("aag")  # AIGER holds no name at all


def test_the_cli_checks_the_name_before_reading_the_model(tmp_path, capsys):
    absent = str(tmp_path / "absent.catlearn")  # the name fails first
    for name, word in (("module", "Verilog keyword"), ("a;b", "contains ';'"),
                       ("", "is empty")):  # fmt: skip
        assert main(["export", absent, str(tmp_path / "n.v"), "--name", name]) == 1
        line = _error_line(capsys.readouterr().err, "catlearn export")
        assert word in line and "--name" in line and "Fix: e.g. --name" in line
    assert _listing(tmp_path) == []


# -- export paths --------------------------------------------------------------------
def test_export_paths_are_checked_before_the_circuit_is_built(tmp_path, capsys):
    d = cl.logic.XOR
    for path, word in (
        (b"net.v", "must be a str or os.PathLike, got bytes"),
        (str(tmp_path / "n\0et.v"), "NUL character"),
        (tmp_path, "it is a directory"),
        (tmp_path / "missing" / "net.v", "does not exist"),
        ("", "is empty"),
    ):
        with pytest.raises(ExportError, match=f"{re.escape(word)}.*Fix: "):
            export(path, d, {})  # no params: the netlist would fail, it is not run
    model = tmp_path / "m.catlearn"
    cl.save(model, d, {})
    before = _listing(tmp_path)
    for out, status, word in (
        (str(tmp_path), 1, "it is a directory. Fix:"),
        (str(tmp_path / "missing" / "n.v"), 1, "Fix: create it first (mkdir -p"),
        (str(tmp_path / "n\0.v"), 2, "NUL character"),
        (str(tmp_path / "n\udcff.v"), 2, "not UTF-8"),
    ):
        assert main(["export", str(model), out]) == status
        assert word in _error_line(capsys.readouterr().err, "catlearn export")
    assert _listing(tmp_path) == before


# -- fit: output paths fail before training --------------------------------------------
def _fit_paths(tmp_path):
    (tmp_path / "dir.png").mkdir()
    missing = tmp_path / "missing"
    return [
        ({"plot": tmp_path / "c.txt"}, cl.ShapeError, "suffix must be .png"),
        ({"plot": tmp_path / "dir.png"}, SaveError, "it is a directory"),
        ({"plot": missing / "c.png"}, SaveError, "does not exist"),
        ({"checkpoint": tmp_path}, SaveError, "it is a directory"),
        ({"checkpoint": missing / "run.ckpt"}, SaveError, "os.makedirs("),
        ({"checkpoint": tmp_path / "c.png", "plot": tmp_path / "c.png"}, SaveError,
         "the same file"),
        ({"resume": tmp_path / "absent.ckpt"}, MissingFileError, "no checkpoint at"),
        ({"resume": tmp_path}, MissingFileError, "is a directory"),
        ({"plot": b"c.png"}, cl.ShapeError, "got bytes"),
        ({"checkpoint": str(tmp_path / "r\0.ckpt")}, cl.ShapeError, "NUL"),
        ({"resume": 3}, cl.ShapeError, "must be a str or os.PathLike"),
        ({"plot": ""}, cl.ShapeError, "is empty"),
    ]


def test_fit_checks_every_output_path_before_the_first_step(tmp_path, no_training):
    for kwargs, error, word in _fit_paths(tmp_path):
        before = _listing(tmp_path)
        with pytest.raises(error, match=r"^fit: .*Fix: ") as info:
            cl.fit(MLP, DATA, epochs=1, progress=False, **kwargs)
        assert word in str(info.value)
        assert no_training == [], kwargs
        assert _listing(tmp_path) == before
    # The same paths, set right, train (the spies see it) and write.
    cl.fit(MLP, DATA, epochs=1, progress=False, plot=tmp_path / "c.png",
           checkpoint=tmp_path / "run.ckpt")  # fmt: skip
    assert no_training == ["compile", "train"]
    assert {"c.png", "run.ckpt"} <= set(_listing(tmp_path))


# -- the command line: output paths fail before training -------------------------------
def test_train_checks_every_path_before_loading_or_training(
    tmp_path, no_training, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir.png").mkdir()
    for flags, status, word in (
        (["--out", "."], 1, "cannot write --out '.': it is a directory. Fix:"),
        (["--out", "missing/m.catlearn"], 1, "Fix: create it first (mkdir -p"),
        (["--plot", "c.txt"], 1, "suffix must be .png"),
        (["--plot", "dir.png"], 1, "it is a directory"),
        (["--plot", "missing/c.png"], 1, "does not exist"),
        (["--checkpoint", "."], 1, "e.g. --checkpoint ./run.ckpt"),
        (["--checkpoint", "x.png", "--plot", "x.png"], 1, "are the same file"),
        (["--out", "m", "--checkpoint", "m"], 1, "are the same file"),
        (["--resume", "absent.ckpt"], 1, "no checkpoint at 'absent.ckpt'"),
        (["--out", "m\0.catlearn"], 2, "NUL character"),
        (["--plot", "c\udcff.png"], 2, "not UTF-8"),
        (["--checkpoint", ""], 2, "is an empty path"),
    ):
        assert main(["train", *NET, *flags]) == status, flags
        line = _error_line(capsys.readouterr().err, "catlearn train")
        assert word in line, line
        assert no_training == [], flags
        assert _listing(tmp_path) == ["dir.png"]


def test_draw_checks_its_picture_before_building_the_model(tmp_path, capsys):
    (tmp_path / "dir.png").mkdir()
    for out, status, word in (
        (tmp_path / "dir.png", 1, "it is a directory"),
        (tmp_path / "missing" / "m.png", 1, "mkdir -p"),
        (f"{tmp_path}/m\0.png", 2, "NUL character"),
    ):
        # no --dataset: building this spec would fail, so it is not built
        assert main(["draw", "--model", "network:8", str(out)]) == status
        assert word in _error_line(capsys.readouterr().err, "catlearn draw")
    assert _listing(tmp_path) == ["dir.png"]


# -- seeds ---------------------------------------------------------------------------
BAD_SEEDS = [-1, 2**32, 2**64, 2**70, 1.5, 3.0, None, True, "0", np.int64(-2)]


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_fit_refuses_a_seed_it_cannot_use_before_training(seed, no_training):
    with pytest.raises(cl.ShapeError) as info:
        cl.fit(MLP, DATA, epochs=1, progress=False, seed=seed)
    message = str(info.value)
    assert "seed must be an int from 0 to 2**32 - 1" in message
    assert re.search(r"Fix: e\.g\. seed=\d+", message)
    assert no_training == []


def test_fit_takes_every_seed_in_range():
    ends = [cl.fit(MLP, DATA, epochs=1, progress=False, seed=s).params
            for s in (np.uint32(2**32 - 1), 2**32 - 1)]  # fmt: skip
    assert all(np.array_equal(ends[0][k], ends[1][k]) for k in ends[0])


@pytest.mark.parametrize("command", ["train", "demo", "laws", "draw"])
def test_every_seed_flag_refuses_a_bad_seed_in_one_line(command, capsys,
                                                        no_training):  # fmt: skip
    rest = {"train": NET, "draw": ["--model", "mlp:3,2", "x.png"]}.get(command, [])
    for seed, word in (("-1", "got -1; give one in that range, e.g. 0"),
                       (str(2**64), "e.g. 0"), (str(2**32 + 5), "e.g. 5"),
                       ("1.5", "invalid seed '1.5'"), ("2**70", "e.g. --seed 0"),
                       ("", "invalid seed ''")):  # fmt: skip
        assert main([command, *rest, "--seed", seed]) == 2
        line = _error_line(capsys.readouterr().err, f"catlearn {command}")
        assert "2**32 - 1" in line and word in line, line
    assert no_training == []


# -- config files --------------------------------------------------------------------
CONFIGS = [
    (b'dataset = "monk1"\nmodel = "network:8\xff"\n', "is not UTF-8 text (byte 0xff"),
    (b"\xef\xbb\xbf\xfe\xff", "is not UTF-8 text"),
    (b'dataset = "monk1"\nseed = -1\n', "got -1; give one in that range"),
    (b'dataset = "monk1"\nseed = 1180591620717411303424\n', "give one in that"),
    (b'dataset = "monk1"\nseed = 1.5\n', "key 'seed' must be an int (seed)"),
    (b'dataset = "monk1"\nout = "m\\u0000.catlearn"\n', "contains a NUL character"),
    (b'dataset = "monk1"\nplot = ""\n', "key 'plot' is an empty path"),
]


@pytest.mark.parametrize(("text", "word"), CONFIGS, ids=range(len(CONFIGS)))
def test_a_bad_config_file_fails_in_one_line_before_training(
    text, word, tmp_path, capsys, no_training
):
    config = tmp_path / "run.toml"
    config.write_bytes(text)
    assert main(["train", "--config", str(config)]) == 2
    assert word in _error_line(capsys.readouterr().err, "catlearn train")
    assert no_training == []
    assert _listing(tmp_path) == ["run.toml"]


def test_a_config_path_that_cannot_be_a_file(tmp_path, capsys):
    for path, word in ((tmp_path, "is a directory; give the TOML file"),
                       (f"{tmp_path}/r\0.toml", "NUL character")):  # fmt: skip
        assert main(["train", "--config", os.fspath(path)]) == 2
        assert word in _error_line(capsys.readouterr().err, "catlearn train")
