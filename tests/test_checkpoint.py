"""Checkpoints: a run interrupted mid-epoch -- by an exception, or by SIGKILL
of a real process, even in the middle of writing a checkpoint -- and resumed
ends with the same parameters and history, bit for bit, as an uninterrupted
run with the same seed, for gradient descent (Smooth) and RDA (Boolean)."""

from __future__ import annotations

import functools
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import catlearn as cl
from catlearn.datasets import load_monk
from catlearn.io import FormatError, MissingFileError
from catlearn.learn import _loop

EPOCHS, BATCH = 3, 16  # MONK-1 train: 124 examples, 8 steps per epoch


def _runs():
    X, y = load_monk(1, "train")
    net = cl.logic.network(17, [32, 32], 2, seed=0)
    return net, {
        "gd": dict(
            data=(X.astype(np.float32), y),
            semantics=cl.Smooth(),
            optimiser=cl.optim.adam(0.05),
            # the circuit's scores every epoch, so that a run in parts records
            # the same rows as one run (by default only a fit's last epoch has
            # them, and each part is a fit)
            score="epoch",
        ),
        "rda": dict(
            data=(X, y),
            semantics=cl.Boolean(),
            loss=cl.losses.hamming,
            optimiser=cl.optim.rda(),
        ),
    }


def _fit(kind, **kw):
    net, runs = _runs()
    return cl.fit(
        net, epochs=EPOCHS, batch_size=BATCH, progress=False, **runs[kind], **kw
    )


@functools.cache
def _full(kind):
    """The uninterrupted run (computed once per kind)."""
    return _fit(kind)


def _same(a, b):
    assert list(a.params) == list(b.params)
    for name in a.params:
        x, y = np.asarray(a.params[name]), np.asarray(b.params[name])
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in h]
             for h in (a.history, b.history)]
    assert strip[0] == strip[1]


def _header(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("checkpoint.json"))


class Crash(Exception):
    pass


@pytest.mark.parametrize("kind", ["gd", "rda"])
def test_resume_after_a_crash_mid_epoch_is_exact(kind, tmp_path, monkeypatch):
    full = _full(kind)
    ckpt = tmp_path / "run.ckpt"
    writes = []
    real = _loop.write_checkpoint

    def crash_on_fifth(path, state, fp):
        writes.append(state.position)
        if len(writes) == 5:  # step 3, step 6, epoch 1, step 9, then crash
            raise Crash
        real(path, state, fp)

    monkeypatch.setattr(_loop, "write_checkpoint", crash_on_fifth)
    with pytest.raises(Crash):
        _fit(kind, checkpoint=ckpt, checkpoint_every=3)
    monkeypatch.setattr(_loop, "write_checkpoint", real)
    header = _header(ckpt)
    assert (header["epoch"], header["position"]) == (1, 16)  # mid-epoch
    assert len(header["history"]) == 1
    resumed = _fit(kind, checkpoint=ckpt, checkpoint_every=3, resume=ckpt)
    _same(full, resumed)
    assert _header(ckpt)["epoch"] == EPOCHS


@pytest.mark.parametrize("kind", ["gd", "rda"])
def test_resume_can_train_longer(kind, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    net, runs = _runs()
    short = cl.fit(net, epochs=1, batch_size=BATCH, progress=False,
                   checkpoint=ckpt, **runs[kind])
    assert len(short.history) == 1
    _same(_full(kind), _fit(kind, resume=ckpt))


# The child trains with checkpoints and SIGKILLs itself at a chosen write:
# after it ("after"), or while writing it, the temporary file written but not
# yet renamed over the checkpoint ("during").
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    import test_checkpoint as t
    from catlearn.learn import _loop
    import catlearn.io

    kill_at, when = {kill_at}, {when!r}
    real, writes = _loop.write_checkpoint, []

    def write(path, state, fp):
        writes.append(1)
        if len(writes) == kill_at and when == "during":
            catlearn.io.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        real(path, state, fp)
        if len(writes) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    _loop.write_checkpoint = write
    t._fit({kind!r}, checkpoint={ckpt!r}, checkpoint_every=3)
    print("not killed")
    """
)


@pytest.mark.parametrize(
    "kind,when", [("gd", "after"), ("rda", "after"), ("gd", "during")]
)
def test_sigkill_and_resume_is_exact(kind, when, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    code = CHILD.format(
        tests=str(pathlib.Path(__file__).parent),
        kill_at=5,
        when=when,
        kind=kind,
        ckpt=str(ckpt),
    )
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert "not killed" not in child.stdout
    header = _header(ckpt)
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    if when == "after":  # the 5th checkpoint: epoch 1, step 12 (offset 64)
        assert (header["epoch"], header["position"]) == (1, 64) and not leftovers
    else:  # killed while writing the 5th: the 4th is intact (offset 16)
        assert (header["epoch"], header["position"]) == (1, 16) and leftovers
    _same(_full(kind), _fit(kind, resume=ckpt))


def test_resume_refuses_another_run(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    net, runs = _runs()
    cl.fit(net, epochs=1, batch_size=BATCH, progress=False, checkpoint=ckpt,
           **runs["gd"])
    with pytest.raises(cl.CheckpointError, match="batch_size is 16, this fit's is 8"):
        cl.fit(net, epochs=2, batch_size=8, progress=False, resume=ckpt,
               **runs["gd"])
    X, y = runs["gd"]["data"]
    other = dict(runs["gd"], data=(X, 1 - y))
    with pytest.raises(cl.CheckpointError, match="its data is"):
        cl.fit(net, epochs=2, batch_size=BATCH, progress=False, resume=ckpt, **other)
    wider = cl.logic.network(17, [32, 64], 2, seed=0)
    with pytest.raises(cl.CheckpointError, match="its diagram is"):
        cl.fit(wider, epochs=2, batch_size=BATCH, progress=False, resume=ckpt,
               **runs["gd"])


def test_broken_checkpoints_fail_clearly(tmp_path):
    net, runs = _runs()
    kw = dict(epochs=2, batch_size=BATCH, progress=False, **runs["gd"])
    with pytest.raises(MissingFileError, match="no checkpoint at"):
        cl.fit(net, resume=tmp_path / "absent.ckpt", **kw)
    ckpt = tmp_path / "run.ckpt"
    cl.fit(net, checkpoint=ckpt, **dict(kw, epochs=1))
    blob = ckpt.read_bytes()
    ckpt.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(FormatError, match="truncated or corrupted"):
        cl.fit(net, resume=ckpt, **kw)
    model = tmp_path / "model.catlearn"
    cl.save(model, net, cl.Smooth()(net).init(__import__("jax").random.key(0)))
    with pytest.raises(FormatError):
        cl.fit(net, resume=model, **kw)


def test_bad_checkpoint_every(tmp_path):
    net, runs = _runs()
    with pytest.raises(cl.ShapeError, match="checkpoint_every must be an int >= 1"):
        cl.fit(net, epochs=1, checkpoint=tmp_path / "c", checkpoint_every=0,
               progress=False, **runs["gd"])
