"""``catlearn train --data FILE``: the user's own CSV or .npz, a named target
column, a stratified validation split; ``catlearn eval --data`` scores a file
with the labels numbered as in training."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import catlearn as cl
from catlearn.cli import main


def _table(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "spam", "ham")
    return X, y


def _write_csv(path, X, y, target="kind"):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["f0", "f1", "f2", target])
        for row, label in zip(X, y, strict=True):
            w.writerow([*row, label])


def test_train_on_a_csv_file_and_score_it_again(tmp_path, capsys):
    X, y = _table()
    data, out = tmp_path / "mail.csv", tmp_path / "m.catlearn"
    _write_csv(data, X, y)
    assert main(["train", "--data", str(data), "--target", "kind", "--model",
                 "mlp:3,8,2", "--epochs", "30", "--lr", "0.05", "--quiet",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    rows = {ln.split()[0]: ln.split() for ln in text.splitlines()
            if ln.startswith(("train", "validation"))}
    assert int(rows["train"][1]) == 96 and int(rows["validation"][1]) == 24
    assert float(rows["validation"][3]) > 0.8  # accuracy
    saved = cl.load(out)
    assert saved.metadata["classes"] == ["ham", "spam"]
    assert saved.metadata["target"] == "kind"
    # scoring the file again: every example, its labels numbered as in training
    assert main(["eval", str(out), "--data", str(data)]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("all")]
    assert int(line[0].split()[1]) == 120
    ids = (y == "spam").astype(np.int32)
    program = cl.Smooth()(saved.diagram)
    predicted = np.argmax(program(saved.params, X.astype(np.float32)), 1)
    acc = float((predicted == ids).mean())
    assert float(line[0].split()[3]) == pytest.approx(acc, abs=1e-4)


def test_train_on_an_npz_archive_of_bits_with_a_logic_network(tmp_path, capsys):
    X, _ = _table(200)
    bits = (X > 0).astype(np.uint8)
    labels = (bits[:, 0] ^ bits[:, 1]).astype(np.int64)
    path = tmp_path / "xor.npz"
    np.savez(path, X=bits, y=labels)
    assert main(["train", "--data", str(path), "--model", "network:16x2",
                 "--epochs", "40", "--lr", "0.1", "--quiet", "--val-split",
                 "0.25"]) == 0
    rows = {ln.split()[0]: ln.split() for ln in capsys.readouterr().out.splitlines()
            if ln.startswith(("train", "validation"))}
    assert int(rows["train"][1]) == 150 and int(rows["validation"][1]) == 50


@pytest.mark.parametrize("args, message", [
    (["--target", "nope"], "not a column"),
    ([], "name the target column with --target"),
    (["--target", "kind", "--val-split", "1.5"], "between 0 and 1"),
    (["--target", "kind", "--dataset", "iris"], "both --dataset and --data"),
])
def test_bad_data_settings_fail_before_training(tmp_path, capsys, args, message):
    X, y = _table(20)
    data = tmp_path / "d.csv"
    _write_csv(data, X, y)
    assert main(["train", "--data", str(data), *args, "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_a_feature_that_is_not_a_number_is_named(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("a,b,t\n1,2,x\n3,oops,y\n4,5,x\n")
    assert main(["train", "--data", str(data), "--target", "t", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "'b'" in err and "'oops'" in err


def test_target_flags_need_data(capsys):
    assert main(["train", "--dataset", "iris", "--target", "x", "--quiet"]) == 2
    assert "--target goes with --data" in capsys.readouterr().err
