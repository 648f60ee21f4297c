"""Resume for every kind of model and optimiser: an MLP (whose parameter names
do not sort in the diagram's order), a diagram with a user's generator (a
``cl.Box`` with a ``cl.Rule`` added by ``cl.Smooth().extend``) and a raw optax
chain passed as ``optimiser=``; logic networks under GD and RDA are in
``test_checkpoint.py``. A resume whose optimiser settings (or rules) differ is
refused with a ``CheckpointError`` naming both settings, and leaves the
checkpoint as it was."""

from __future__ import annotations

import functools
import json
import pathlib
import signal
import subprocess
import sys
import textwrap
import types
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import catlearn as cl
from catlearn.learn import _checkpoint
from catlearn.learn._settings import describe, differences, unseen

EPOCHS, BATCH = 2, 8  # 32 examples: 4 steps per epoch, one batch shape


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 4)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int32) + (X[:, 1] > 0).astype(np.int32)


def _twice_forward(box, x):
    return (2 * x,), None


def _twice_reverse(box, residuals, dy):
    return (2 * dy,)


TWICE = cl.Rule(_twice_forward, _twice_reverse)


def _chain(lr=1e-2):
    return optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lr))


def _run(kind):
    """``(diagram, fit settings)`` of each kind of run."""
    mlp = cl.nn.mlp([4, 8, 3], activation="tanh")
    if kind == "mlp":
        return mlp, dict(optimiser=cl.optim.adam(1e-2))
    if kind == "custom":
        twice = cl.Box("twice", cl.real(8), cl.real(8))
        model = (cl.nn.dense(4, 8, activation="tanh", name="enc") >> twice
                 >> cl.nn.dense(8, 3, activation=None, name="dec"))
        return model, dict(semantics=cl.Smooth().extend({"twice": TWICE}),
                           optimiser=cl.optim.sgd(0.05))
    if kind == "chain":
        return mlp, dict(optimiser=_chain())
    raise KeyError(kind)


def _fit(kind, **kw):
    diagram, settings = _run(kind)
    kw = {"epochs": EPOCHS, **kw}
    return cl.fit(diagram, _data(), batch_size=BATCH, progress=False,
                  **settings, **kw)


@functools.cache
def _full(kind):
    return _fit(kind)


def _same(a, b):
    assert sorted(a.params) == sorted(b.params)
    for name in a.params:
        x, y = np.asarray(a.params[name]), np.asarray(b.params[name])
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in h]
             for h in (a.history, b.history)]
    assert strip[0] == strip[1]


# -- killed mid-epoch, resumed: bit for bit -------------------------------------------
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    import test_resume as t
    from catlearn.learn import _loop

    real, writes = _loop.write_checkpoint, []

    def write(path, state, fp):
        real(path, state, fp)
        writes.append(1)
        if len(writes) == 3:  # step 2, epoch 1's end, step 6 (mid-epoch 2)
            os.kill(os.getpid(), signal.SIGKILL)

    _loop.write_checkpoint = write
    t._fit({kind!r}, checkpoint={ckpt!r}, checkpoint_every=2)
    print("not killed")
    """
)


@pytest.mark.parametrize("kind", ["mlp", "custom", "chain"])
def test_sigkill_mid_epoch_and_resume_is_exact(kind, tmp_path):
    """The child's fingerprint (optax closures included) must equal the
    parent's: written in one process, checked in another."""
    ckpt = tmp_path / "run.ckpt"
    code = CHILD.format(
        tests=str(pathlib.Path(__file__).parent), kind=kind, ckpt=str(ckpt)
    )
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert "not killed" not in child.stdout
    with zipfile.ZipFile(ckpt) as zf:
        header = json.loads(zf.read("checkpoint.json"))
    assert (header["epoch"], header["position"]) == (1, 16)  # mid-epoch 2
    _same(_full(kind), _fit(kind, resume=ckpt))


def test_mlp_resume_to_train_longer(tmp_path):
    """The checkpoint lists the parameters sorted (as the jitted step returns
    them); the MLP's diagram order is ``mlp.0.w, mlp.0.b, ...``."""
    ckpt = tmp_path / "run.ckpt"
    _fit("mlp", epochs=1, checkpoint=ckpt)
    _same(_full("mlp"), _fit("mlp", resume=ckpt))


# -- other optimiser settings: refused, naming both, files intact ---------------------
@pytest.mark.parametrize(
    "there,here,shown",
    [
        (cl.optim.adam(1e-2), cl.optim.adam(1e-3), ("lr=0.01", "lr=0.001")),
        (_chain(1e-2), _chain(1e-3), ("-0.01 there, -0.001 here",)),
        (cl.optim.from_optax(optax.adam(1e-2)), cl.optim.from_optax(optax.adam(1e-3)),
         ("-0.01 there, -0.001 here",)),
        (optax.sgd(lambda step: 1e-2), optax.sgd(lambda step: 1e-3), ("(code)",)),
    ],
    ids=["adam", "optax-chain", "from_optax", "schedule"],
)
def test_resume_refuses_other_optimiser_settings(there, here, shown, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    mlp, X_y = cl.nn.mlp([4, 3]), _data()
    kw = dict(batch_size=BATCH, progress=False, checkpoint=ckpt)
    cl.fit(mlp, X_y, epochs=1, optimiser=there, **kw)
    before = ckpt.read_bytes()
    with pytest.raises(cl.CheckpointError) as err:
        cl.fit(mlp, X_y, epochs=2, optimiser=here, resume=ckpt, **kw)
    for text in (*shown, "optimiser", "Fix:"):
        assert text in str(err.value)
    assert ckpt.read_bytes() == before


def test_raw_optax_and_from_optax_resume_each_other(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    mlp, X_y = cl.nn.mlp([4, 3]), _data()
    kw = dict(batch_size=BATCH, progress=False)
    cl.fit(mlp, X_y, epochs=1, optimiser=_chain(), checkpoint=ckpt, **kw)
    resumed = cl.fit(mlp, X_y, epochs=2, optimiser=cl.optim.from_optax(_chain()),
                     resume=ckpt, **kw)
    _same(cl.fit(mlp, X_y, epochs=2, optimiser=_chain(), **kw), resumed)


def test_resume_refuses_other_rules(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    _fit("custom", epochs=1, checkpoint=ckpt)
    thrice = cl.Rule(lambda box, x: ((3 * x,), None), lambda box, r, dy: (3 * dy,))
    diagram, settings = _run("custom")
    settings["semantics"] = cl.Smooth().extend({"twice": thrice})
    with pytest.raises(cl.CheckpointError, match="other rules settings"):
        cl.fit(diagram, _data(), epochs=2, batch_size=BATCH, progress=False,
               resume=ckpt, **settings)


def test_optimiser_state_layout_is_checked():
    fresh = optax.adam(1e-2).init({"a": jnp.zeros(2), "b": jnp.zeros(2)})
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(fresh)]
    paths = _checkpoint._paths(fresh)
    swapped = [paths[0], paths[2], paths[1], *paths[3:]]
    with pytest.raises(cl.CheckpointError, match=r"laid out otherwise.*mu\['b'\]"):
        _checkpoint._match_tree("c.ckpt", leaves, fresh, swapped)
    _checkpoint._match_tree("c.ckpt", leaves, fresh, paths)


# -- the settings of an optax transformation, read from its closures ------------------
def test_describe_reads_closures_not_addresses():
    a, b, c = describe(_chain(1e-2)), describe(_chain(1e-2)), describe(_chain(1e-3))
    assert a == b and "0x" not in str(a) and not unseen(a)
    [(path, x, y)] = differences(a, c)
    assert path.endswith("step_size") and (x, y) == ("-0.01", "-0.001")
    decay = [optax.adam(optax.exponential_decay(1e-2, 10, r)) for r in (0.9, 0.5)]
    assert [d[1:] for d in differences(*map(describe, decay))] == [("0.9", "0.5")]


CFG = types.SimpleNamespace(lr=1e-2)


def test_unreadable_settings_are_named():
    """A schedule reading an attribute of a global object: the object's state
    is not read, and the fingerprint says so with a warning."""
    tx = optax.sgd(lambda step: CFG.lr)
    assert unseen(describe(tx))
    with pytest.warns(cl.optim.SettingsWarning, match="cannot read"):
        _checkpoint.fingerprint(
            cl.nn.mlp([4, 3]), cl.Smooth(), cl.losses.mse,
            cl.optim.from_optax(tx), 8, 0, ((np.zeros((2, 4)),), np.zeros(2)),
        )


def test_checkpoints_naming_the_old_fused_functor_spellings_still_resume():
    """Before issue 13 a relaxed kernel printed as ``RelaxedKernel(...)`` and a
    tile as ``block_words=n``; checkpoints hold that repr, and it names the
    same functor as today's ``Kernel(relaxed=True, ...)`` / ``block=32 n``."""
    import warnings

    from catlearn.learn._checkpoint import _check_fingerprint

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old_tile = cl.Kernel(backend="xla", block_words=8)
    pairs = [
        ("RelaxedKernel()", cl.Kernel(relaxed=True)),
        ("RelaxedKernel(backend='pallas', block=64)",
         cl.Kernel(relaxed=True, backend="pallas", block=64)),
        ("Kernel(backend='xla', block_words=8)", old_tile),
    ]
    for old, functor in pairs:
        now = {"semantics": repr(functor)}
        _check_fingerprint("ckpt", {"semantics": old}, now)  # no error
    with pytest.raises(cl.CheckpointError, match="semantics"):
        _check_fingerprint("ckpt", {"semantics": "RelaxedKernel()"},
                           {"semantics": repr(cl.Kernel(backend="xla"))})
