"""The ``catlearn`` command: every sub-command in-process through
``catlearn.cli.main``, and the installed console script in a subprocess.

Errors are one line on stderr: status 2 for bad usage, 1 for the rest."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import catlearn as cl
from catlearn.cli import main

SCRIPT = pathlib.Path(sys.executable).parent / "catlearn"
CONFIGS = pathlib.Path(__file__).resolve().parent.parent / "examples" / "configs"
COMMANDS = ("demo", "train", "eval", "export", "laws", "draw")
NET = ["--dataset", "monk1", "--model", "network:32x2"]


def _one_error_line(err: str, prog: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err and "usage:" not in err
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A logic network trained under Smooth for 2 epochs, saved with a plot
    and a checkpoint."""
    d = tmp_path_factory.mktemp("trained")
    paths = {k: d / f"monk1.{k}" for k in ("catlearn", "png", "ckpt")}
    status = main(["train", *NET, "--epochs", "2", "--quiet",
                   "--out", str(paths["catlearn"]), "--plot", str(paths["png"]),
                   "--checkpoint", str(paths["ckpt"]), "--checkpoint-every", "2"])
    assert status == 0
    return paths


# -- the installed script ----------------------------------------------------------
def test_the_installed_script_prints_help_and_rejects_a_bad_flag_in_one_line():
    assert SCRIPT.exists(), f"no console script at {SCRIPT}: pip install catlearn"
    ok = subprocess.run([SCRIPT, "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stderr == ""
    assert all(cmd in ok.stdout for cmd in COMMANDS)
    bad = subprocess.run([SCRIPT, "train", "--epochs", "ten"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    line = _one_error_line(bad.stderr, "catlearn train")
    assert "invalid int value: 'ten'" in line
    assert line.endswith("see 'catlearn train --help'")


# -- help and usage errors ------------------------------------------------------------
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: catlearn {command}")
    assert "example" in out


def test_version_and_no_command(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"catlearn {cl.__version__}"
    assert main([]) == 2
    assert "no command given" in _one_error_line(capsys.readouterr().err, "catlearn")


BAD = [
    (["frobnicate"], "catlearn", "unknown command 'frobnicate' (choose from demo"),
    (["train", *NET, "--bogus"], "catlearn train", "unrecognized arguments: --bogus"),
    (["train", "--dataset", "monk1", "--model", "cnn:3"], "catlearn train",
     "unknown model 'cnn:3'"),
    (["train", "--dataset", "monk1", "--model", "mlp:17"], "catlearn train",
     "an mlp needs its input, hidden and output sizes"),
    (["train", "--dataset", "mnist"], "catlearn train",
     "unknown dataset 'mnist' (choose from iris, iris-bits, monk1, monk2, monk3)"),
    (["train", "--model", "mlp:4,8,3"], "catlearn train", "no dataset given"),
    (["train", *NET, "--semantics", "foo"], "catlearn train",
     "unknown semantics 'foo' (choose from smooth, boolean, kernel, relaxed-kernel)"),
    (["train", *NET, "--optimiser", "adagrad"], "catlearn train",
     "unknown optimiser 'adagrad'"),
    (["train", *NET, "--epochs", "0"], "catlearn train", "must be positive"),
    (["train", *NET, "--optimiser", "rda", "--lr", "0.1"], "catlearn train",
     "lr does not apply to rda"),
    (["train", *NET, "--flips", "2"], "catlearn train",
     "flips applies to the rda optimiser only"),
    (["train", "--dataset", "iris", "--model", "network:8"], "catlearn train",
     "it reads bits, but dataset 'iris' has real features"),
    (["train", "--dataset", "iris", "--model", "mlp:5,8,3"], "catlearn train",
     "e.g. --model mlp:4,8,3"),
    (["laws", "--semantics", "foo"], "catlearn laws", "unknown semantics 'foo'"),
    (["laws", "--law", "no such law"], "catlearn laws", "no law matches"),
    (["draw", "--model", "mlp:4,3", "x.gif"], "catlearn draw",
     "cannot tell the picture format of 'x.gif'"),
    (["draw", "--model", "network:8", "net.png"], "catlearn draw", "pass --dataset"),
    (["draw", "--model", "network:8"], "catlearn draw",
     "the following arguments are required: [FILE] OUT"),
]


@pytest.mark.parametrize("argv, prog, message", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_usage_is_one_line_and_status_2(argv, prog, message, capsys):
    assert main(argv) == 2
    line = _one_error_line(capsys.readouterr().err, prog)
    assert message in line
    assert line.endswith(f"see '{prog} --help'")


CONFIG_ERRORS = {
    "epoch = 3\n": "unknown key 'epoch' (allowed keys: model, dataset,",
    "epochs = 'ten'\n": "key 'epochs' must be an int",
    "epochs = [\n": "is not valid TOML",
}


@pytest.mark.parametrize("text", CONFIG_ERRORS)
def test_bad_config_files_are_one_line_and_status_2(text, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["train", "--config", str(path)]) == 2
    assert CONFIG_ERRORS[text] in _one_error_line(capsys.readouterr().err,
                                                  "catlearn train")


def test_missing_files_are_one_line_and_status_1(tmp_path, capsys):
    for argv, prog in (
        (["train", "--config", str(tmp_path / "none.toml")], "catlearn train"),
        (["eval", str(tmp_path / "none.catlearn")], "catlearn eval"),
        (["export", str(tmp_path / "none.catlearn"), "x.v"], "catlearn export"),
        (["draw", str(tmp_path / "none.catlearn"), "x.png"], "catlearn draw"),
    ):
        assert main(argv) == 1
        assert "none." in _one_error_line(capsys.readouterr().err, prog)


def test_library_errors_are_one_line_and_status_1_or_a_traceback_on_debug(
    capsys, monkeypatch
):
    argv = ["train", *NET, "--optimiser", "rda", "--semantics", "smooth"]
    assert main(argv) == 1
    line = _one_error_line(capsys.readouterr().err, "catlearn train")
    assert "Reverse Derivative Ascent over Z2" in line and "cl.Boolean()" in line
    monkeypatch.setenv("CATLEARN_DEBUG", "1")
    with pytest.raises(cl.SemanticsError):
        main(argv)


# -- train ------------------------------------------------------------------------
def test_train_writes_the_model_plot_and_checkpoint(trained):
    saved = cl.load(trained["catlearn"])
    meta = saved.metadata
    assert (meta["model"], meta["dataset"], meta["semantics"]) == (
        "network:32,32", "monk1", "smooth")
    assert meta["loss"] == "softmax-cross-entropy" and meta["epochs"] == 2
    assert [row["epoch"] for row in meta["history"]] == [1, 2]
    assert saved.diagram == cl.logic.network(17, [32, 32], 2, seed=0)
    assert all(np.asarray(p).dtype == np.float32 for p in saved.params.values())
    assert trained["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert trained["ckpt"].stat().st_size > 0


def test_resume_continues_the_checkpointed_run(trained, tmp_path, capsys):
    out = tmp_path / "resumed.catlearn"
    assert main(["train", *NET, "--epochs", "3", "--quiet", "--resume",
                 str(trained["ckpt"]), "--out", str(out)]) == 0
    first = cl.load(trained["catlearn"]).metadata["history"]
    history = cl.load(out).metadata["history"]
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert [r["loss"] for r in history[:2]] == [r["loss"] for r in first]


def test_train_from_a_toml_config_with_flags_overriding_it(tmp_path, capsys,
                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rda.toml").write_text(textwrap.dedent("""\
        model = "network:32x2"
        dataset = "monk1"
        semantics = "boolean"
        optimiser = "rda"
        epochs = 50
        batch_size = 16
        out = "rda.catlearn"
    """))
    assert main(["train", "--config", "rda.toml", "--epochs", "2"]) == 0
    out, err = capsys.readouterr()
    assert "fit" in err  # the progress bar
    assert re.search(r"^epoch +loss +accuracy", out, re.M)
    test_row = re.search(r"^test +432 +\S+ +(\S+) +(\S+)$", out, re.M)
    assert test_row and test_row.group(1) == test_row.group(2)  # exact circuit
    meta = cl.load("rda.catlearn").metadata
    assert (meta["semantics"], meta["loss"], meta["epochs"]) == (
        "boolean", "hamming", 2)
    assert meta["optimiser"].startswith("RDA(")
    assert json.dumps(meta)  # plain JSON


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.toml")))
def test_the_example_configs_are_valid(name):
    from catlearn._cli._specs import parse_model, read_config

    settings = read_config(str(CONFIGS / name))
    assert {"model", "dataset", "epochs"} <= set(settings)
    parse_model(settings["model"])


def test_quiet_turns_off_the_bar_and_the_history(capsys):
    argv = ["train", "--dataset", "iris", "--epochs", "2"]
    assert main(argv) == 0
    loud = capsys.readouterr()
    assert "fit" in loud.err and re.search(r"^epoch ", loud.out, re.M)
    assert main([*argv, "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert quiet.out.splitlines()[0].split() == ["split", "n", "loss", "accuracy"]
    # The same run: the same final scores.
    assert quiet.out.splitlines()[-1] == loud.out.splitlines()[-1]


# -- eval, export, draw -------------------------------------------------------------
def _test_row(out):
    return re.search(r"^test +432 +(\S+) +(\S+) +(\S+)$", out, re.M)


def test_eval_scores_a_saved_model_under_any_semantics(trained, capsys):
    assert main(["eval", str(trained["catlearn"])]) == 0
    smooth = _test_row(capsys.readouterr().out)
    scores = cl.load(trained["catlearn"]).metadata["scores"]["test"]
    assert smooth and float(smooth.group(2)) == pytest.approx(scores["accuracy"],
                                                              abs=1e-4)
    # Under Boolean the tables are discretized: accuracy = the circuit's.
    assert main(["eval", str(trained["catlearn"]), "--semantics", "boolean"]) == 0
    exact = _test_row(capsys.readouterr().out)
    assert exact and exact.group(2) == exact.group(3) == smooth.group(3)
    assert main(["eval", str(trained["catlearn"]), "--split", "train"]) == 0
    assert re.search(r"^train +124 ", capsys.readouterr().out, re.M)


def test_export_writes_the_folded_circuit(trained, tmp_path, capsys):
    v = tmp_path / "monk1.v"
    assert main(["export", str(trained["catlearn"]), str(v)]) == 0
    out = capsys.readouterr().out
    before, after = map(int, re.search(r"gates: (\d+) before folding, (\d+) after",
                                       out).groups())
    assert before == 64 and 0 <= after <= before
    assert "0: y[0..15], 1: y[16..31]" in out
    header = v.read_text().splitlines()[0]
    assert header == (f"// catlearn.export: 17 inputs x[0..16], 32 outputs "
                      f"y[0..31], {after} gates")
    aag = tmp_path / "monk1.aag"
    assert main(["export", str(trained["catlearn"]), str(aag), "--no-fold"]) == 0
    assert "gates: 64 (not folded)" in capsys.readouterr().out
    assert aag.read_text().startswith("aag ")
    assert main(["export", str(trained["catlearn"]), str(tmp_path / "x.txt")]) == 1
    assert "suffix" in _one_error_line(capsys.readouterr().err, "catlearn export")


def test_draw_a_saved_model_or_a_spec(trained, tmp_path, capsys):
    png, svg = tmp_path / "net.png", tmp_path / "mlp.svg"
    assert main(["draw", str(trained["catlearn"]), str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["draw", "--model", "mlp:4,8,3", str(svg)]) == 0
    assert "<svg" in svg.read_text()
    assert f"wrote {svg}" in capsys.readouterr().out


# -- laws -------------------------------------------------------------------------
def _law_rows(out):
    row = re.compile(r"\s\d+\s{2,}(ok|FAILED|ERROR)")
    return [ln for ln in out.splitlines() if row.search(ln)]


# (smooth's full run is test_a_new_generator_must_be_drawn's second call)
@pytest.mark.parametrize(("functor", "n_laws"), [("boolean", 15)])
def test_laws_hold_and_print_a_table(functor, n_laws, capsys):
    assert main(["laws", "--semantics", functor, "--examples", "1"]) == 0
    out = capsys.readouterr().out
    rows = _law_rows(out)
    assert len(rows) == n_laws and all(row.endswith(" ok") for row in rows), out
    assert rows[0].startswith("every generator")
    assert any(row.startswith("RD.7") for row in rows)
    assert f"{n_laws} of {n_laws} laws hold" in out


def test_the_default_examples_are_check_functors():
    from catlearn._cli._app import _EXAMPLES
    from catlearn.testing import EXAMPLES

    assert _EXAMPLES == EXAMPLES


BADRULES = """\
    import catlearn as cl

    # R[add](a, b, dy) should be (dy, dy).
    BAD_ADD = cl.Rule(lambda box, a, b: ((a + b,), None),
                      lambda box, r, dy: (dy, 2 * dy))
    F = cl.Smooth().extend({"add": BAD_ADD})
"""


def test_a_broken_rule_fails_at_its_generator(tmp_path, capsys, monkeypatch):
    (tmp_path / "badrules.py").write_text(textwrap.dedent(BADRULES))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["laws", "--functor", "badrules:F", "--law", "RD.1"]) == 1
    out = capsys.readouterr().out
    rows = _law_rows(out)
    assert len(rows) == 1 and rows[0].startswith("every generator"), out
    assert "FAILED" in rows[0] and "generator 'add" in out
    assert "max |lhs - rhs|" in out and "1 not run (--keep-going" in out


def test_keep_going_runs_every_law(tmp_path, capsys, monkeypatch):
    (tmp_path / "badrules.py").write_text(textwrap.dedent(BADRULES))
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["laws", "--functor", "badrules:F", "--law", "RD.1", "--law",
            "Id) = id", "--keep-going"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    rows = _law_rows(out)
    assert [r.split("  ")[0] for r in rows] == [
        "every generator: alone, fed by parameters, repeated",
        "functoriality F(Id) = id", "RD.1 R[f + g] = R[f] + R[g]"], out
    assert rows[1].endswith(" ok") and "FAILED" in rows[2]
    assert "2 FAILED" in out


USER_RULES = """\
    import catlearn as cl

    SQUARE = cl.Rule(lambda box, x: ((x * x,), x),
                     lambda box, x, dy: ({derivative},))
    F = cl.Smooth().extend({{"square": SQUARE}})
    BOXES = [cl.Box("square", cl.real(2), cl.real(2))]
"""


def test_a_new_generator_must_be_drawn(tmp_path, capsys, monkeypatch):
    """A rule no generator uses is never checked: the command says so and
    fails, until its box is passed with --generators; a wrong rule for it
    is then caught with the default settings."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "goodsq.py").write_text(textwrap.dedent(
        USER_RULES.format(derivative="2 * x * dy")))
    assert main(["laws", "--functor", "goodsq:F", "--law", "RD.5"]) == 1
    out = capsys.readouterr().out
    assert "rules for ['square']" in out and "--generators" in out
    argv = ["laws", "--functor", "goodsq:F", "--generators", "goodsq:BOXES",
            "--law", "RD.5"]
    assert main(argv) == 0, capsys.readouterr().out
    (tmp_path / "badsq.py").write_text(textwrap.dedent(
        USER_RULES.format(derivative="x * dy")))
    assert main(["laws", "--functor", "badsq:F", "--generators", "badsq:BOXES"]) == 1
    assert "generator 'square' alone" in capsys.readouterr().out


def test_laws_need_hypothesis(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # import fails
    assert main(["laws"]) == 1
    line = _one_error_line(capsys.readouterr().err, "catlearn laws")
    assert 'pip install "catlearn[testing]"' in line


# -- demo -------------------------------------------------------------------------
def test_quick_demo_trains_under_every_semantics(capsys):
    assert main(["demo", "--quick"]) == 0
    out = capsys.readouterr().out
    for name in ("Smooth()", "Kernel(relaxed=True)", "Boolean()", "Kernel()"):
        row = next(ln for ln in out.splitlines() if f", {name} " in ln)
        exact = float(row.split()[-2])
        assert 0.5 < exact <= 1.0, row
