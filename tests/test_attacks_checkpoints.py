"""Attacks by checkpoint file (issue 12, continued from test_attacks_files.py):
crafted fields, a resume asking for fewer epochs than were done, and the
temporary files of killed writers. Each ends in a ``cl.CatlearnError`` naming
a fix, with the checkpoint file unchanged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import catlearn as cl
from catlearn import _atomic
from catlearn.io import FormatError
from catlearn.learn import _loop

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _fuzzing import entries, fails_well, npy, rezip  # noqa: E402

NET = cl.nn.mlp([2, 4, 2], name="m")
X = (np.arange(64, dtype=np.float32) % 7).reshape(32, 2) / 7
Y = (np.arange(32) % 2).astype(np.int32)


def _fit(epochs=2, **kw):
    return cl.fit(NET, (X, Y), epochs=epochs, batch_size=8, progress=False, **kw)


class _Stop(Exception):
    pass


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """A checkpoint after 2 epochs, and one from the middle of epoch 2."""
    base = tmp_path_factory.mktemp("ckpt")
    end, mid = str(base / "end.ckpt"), str(base / "mid.ckpt")
    _fit(checkpoint=end)
    real = _loop.write_checkpoint

    def stop_mid_epoch(path, state, fp):
        real(path, state, fp)
        if state.position:
            raise _Stop

    with pytest.MonkeyPatch.context() as m:  # 4 steps per epoch: the 6th is mid-2nd
        m.setattr(_loop, "write_checkpoint", stop_mid_epoch)
        with pytest.raises(_Stop):
            _fit(epochs=2, checkpoint=mid, checkpoint_every=6)
    with open(end, "rb") as f, open(mid, "rb") as g:
        return f.read(), g.read()


def _header(blob):
    return json.loads(entries(blob)["checkpoint.json"])


def _with_header(blob, **change):
    head = _header(blob)
    head.update(change)
    return rezip(blob, {"checkpoint.json": json.dumps(head).encode()})


RNG = {"bit_generator": "PCG64", "state": {"state": 1, "inc": 1}, "has_uint32": 0,
       "uinteger": 0}  # fmt: skip
FIELDS = {
    "position-negative": dict(position=-8),
    "position-past-the-data": dict(position=10**6),
    "position-not-a-batch": dict(position=3),
    "position-bool": dict(position=True),
    "epoch-negative": dict(epoch=-1),
    "epoch-not-the-history": dict(epoch=1),
    "epoch-str": dict(epoch="2"),
    "steps-negative": dict(steps=-1),
    "sums-count": dict(sums=3),
    "rng-negative": dict(rng_state={**RNG, "state": {"state": -1, "inc": 1}}),
    "rng-huge": dict(rng_state={**RNG, "state": {"state": 2**200, "inc": 1}}),
    "rng-other-generator": dict(rng_state={**RNG, "bit_generator": "MT19937"}),
    "rng-not-a-dict": dict(rng_state=[1, 2]),
    "history-not-a-list": dict(history={"epoch": 1}),
    "history-row-text": dict(history=[{"epoch": 1.0, "loss": "low"}] * 2),
    "history-epochs-wrong": dict(history=[{"epoch": 2.0}, {"epoch": 1.0}]),
    "params-not-names": dict(params=[1, 2]),
    "fingerprint-not-a-dict": dict(fingerprint=[]),
    "unknown-key": dict(extra=1),
}


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_crafted_checkpoint_fields(ckpt, tmp_path, field):
    """Each field out of its range or type: a CatlearnError before any array
    is read, the file unchanged."""
    blob = _with_header(ckpt[0], **FIELDS[field])
    path = tmp_path / "bad.ckpt"
    path.write_bytes(blob)
    with pytest.raises(cl.CatlearnError) as e:
        _fit(epochs=3, resume=path)
    fails_well(e.value, repr(str(path)))
    assert path.read_bytes() == blob


@pytest.mark.parametrize("sums", ["nan", "negative", "vector", "not-zero-at-start"])
def test_crafted_running_sums(ckpt, tmp_path, sums):
    blob = ckpt[1] if sums != "not-zero-at-start" else ckpt[0]
    value = {"nan": np.float32("nan"), "negative": np.int32(-5),
             "vector": np.zeros(3), "not-zero-at-start": np.int32(7)}[sums]  # fmt: skip
    blob = rezip(blob, {"sums/2.npy": npy(value)})
    path = tmp_path / "bad.ckpt"
    path.write_bytes(blob)
    with pytest.raises(FormatError) as e:
        _fit(epochs=3, resume=path)
    fails_well(e.value, "sum")
    assert path.read_bytes() == blob


@pytest.mark.parametrize("which", [0, 1])
def test_resume_with_fewer_epochs_than_done(ckpt, tmp_path, which):
    """Resuming 2 finished epochs (or 1 and part of the 2nd) with epochs=1:
    CheckpointError naming the epochs to ask for, not the longer run."""
    path = tmp_path / "run.ckpt"
    path.write_bytes(ckpt[which])
    with pytest.raises(cl.CheckpointError) as e:
        _fit(epochs=1, resume=path)
    fails_well(e.value, "epochs >= 2", "epochs=1")
    assert path.read_bytes() == ckpt[which]


def test_the_mid_epoch_checkpoint_is_mid_epoch(ckpt):
    assert _header(ckpt[1])["position"] == 16 and _header(ckpt[1])["epoch"] == 1


def test_resume_with_the_epochs_done_returns_that_run(ckpt, tmp_path):
    path = tmp_path / "run.ckpt"
    path.write_bytes(ckpt[0])
    result = _fit(epochs=2, resume=path)
    assert len(result.history) == 2
    assert result.history == _header(ckpt[0])["history"]


# -- 8. temporary files of killed writers ---------------------------------------------
WRITER = """
import sys, time
from catlearn._atomic import write_zip_atomic
def stall(zf):
    zf.writestr("a", "b")
    print("writing", flush=True)
    time.sleep(600)
write_zip_atomic(sys.argv[1], stall)
"""


def _temps(folder, name="run.ckpt"):
    return sorted(f for f in os.listdir(folder) if f.startswith(f".{name}."))


def test_kill_9_mid_write_leaves_no_temp_behind(tmp_path):
    """Three writers killed (SIGKILL) mid-write leave three temps; the next
    write of that file removes them, and the temps of a live writer and of
    another file stay."""
    target = str(tmp_path / "run.ckpt")
    for _ in range(3):
        p = subprocess.Popen([sys.executable, "-c", WRITER, target],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert p.stdout.readline().strip() == "writing"
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdout.close()
    assert len(_temps(tmp_path)) == 3
    live = subprocess.Popen([sys.executable, "-c", WRITER, target],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert live.stdout.readline().strip() == "writing"
        other = tmp_path / ".other.ckpt.abcdefgh.tmp"
        other.write_bytes(b"x")
        _fit(epochs=1, checkpoint=target)
        left = _temps(tmp_path)
        assert len(left) == 1 and f"-{live.pid}." in left[0], left
        assert other.exists()
    finally:
        live.kill()
        live.wait()
        live.stdout.close()


def test_resume_removes_dead_writers_temps(ckpt, tmp_path):
    """A temp named by a dead pid of this host goes on resume; one of an
    unknown writer goes only once older than STALE_SECONDS."""
    path = tmp_path / "run.ckpt"
    path.write_bytes(ckpt[0])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    prefix = f".run.ckpt.{_atomic._HOST}-{dead}."
    stale = [tmp_path / f"{prefix}abcdefgh.tmp", tmp_path / ".run.ckpt.old_temp.tmp"]
    young = tmp_path / ".run.ckpt.new_temp.tmp"
    for f in (*stale, young):
        f.write_bytes(b"partial")
    hours_ago = time.time() - 2 * _atomic.STALE_SECONDS
    os.utime(stale[1], (hours_ago, hours_ago))
    _fit(epochs=2, resume=path)
    assert not any(f.exists() for f in stale)
    assert young.exists() and path.read_bytes() == ckpt[0]
