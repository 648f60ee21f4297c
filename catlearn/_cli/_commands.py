"""The commands that train and use one model file: ``train``, ``eval``,
``export`` and ``draw``. Each takes the parsed arguments and returns the exit
status; bad input raises ``UsageError`` (exit 2) or a library error (exit 1).
"""

from __future__ import annotations

import argparse
import inspect
import math
import pathlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import io
from .._errors import CommandError as CommandError
from ..diagrams import Diagram
from ..export import check_name, file_format
from ..export import check_path as check_circuit_path
from ..export import export as export_circuit
from ..functors import Boolean, Functor
from ..learn import evaluate, fit, output_path, run_paths
from . import _specs as specs
from ._specs import UsageError
from ._userdata import load_user_data

DEFAULTS: dict[str, Any] = {"epochs": 10, "batch_size": 32, "seed": 0,
                            "semantics": "smooth", "quiet": False, "validate": False}
FIT_OPTIONS = ("checkpoint", "checkpoint_every", "resume", "plot")


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """Rows as aligned text: the first column left-aligned, numbers with 4
    decimals (``-`` where a value does not apply).

    >>> print(table([("test", 432, 0.5)], ("split", "n", "accuracy")))
    split    n  accuracy
    -----  ---  --------
    test   432    0.5000
    """

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        if isinstance(v, float):
            return f"{v:.4f}"
        return str(v)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        out = [v.rjust(w) for v, w in zip(values, widths, strict=True)]
        out[0] = values[0].ljust(widths[0])
        return "  ".join(out).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]),
                      *(line(r) for r in cells)])


# -- train ------------------------------------------------------------------------
def settings(args: argparse.Namespace) -> dict[str, Any]:
    """Defaults, then the ``--config`` file, then the flags given."""
    out = dict(DEFAULTS)
    if getattr(args, "config", None) is not None:
        out.update(specs.read_config(args.config))
    for key in specs.KEYS:
        if key in vars(args):
            out[key] = specs.check_value(key, getattr(args, key),
                                         f"--{key.replace('_', '-')}")
    if "dataset" not in out and "data" not in out:
        raise UsageError("no dataset given: pass --dataset (choose from "
                         f"{specs.choices(specs.DATASETS)}), or --data FILE with "
                         "--target COLUMN, or set one in --config")
    if "dataset" in out and "data" in out:
        raise UsageError("both --dataset and --data given: train on one of them")
    for key in ("target", "val_split"):
        if key in out and "data" not in out:
            raise UsageError(f"--{key.replace('_', '-')} goes with --data FILE")
    if "optimiser" not in out:
        kind = specs.semantics(out["semantics"])
        out["optimiser"] = "rda" if isinstance(kind, Boolean) else "adam"
    return out


def train(args: argparse.Namespace) -> int:
    s = settings(args)
    if "checkpoint_every" in s and "checkpoint" not in s:
        raise UsageError("checkpoint_every needs a checkpoint file: add --checkpoint "
                         "PATH")
    # fail before training, not after: every file it writes or reads, first
    run_paths("", {k: f"--{k}" for k in (*FIT_OPTIONS, "out")},
              **{k: s.get(k) for k in ("plot", "checkpoint", "resume", "out")})
    functor = specs.semantics(s["semantics"])
    model = specs.parse_model(s["model"]) if "model" in s else None
    if "data" in s:
        user = load_user_data(s["data"], s.get("target"), s.get("val_split", 0.2),
                              s["seed"])
        data = specs.Data(user.name, user.kind, user.train, user.test)
    else:
        data = specs.load_data(s["dataset"])
    held = "validation" if "data" in s else "test"
    model = model or specs.default_model(data)
    optimiser = specs.optimiser(s, model)
    loss_name, loss = specs.loss(s)
    extra = {k: s[k] for k in FIT_OPTIONS if k in s}
    supported = inspect.signature(fit).parameters
    missing = [k for k in extra if k not in supported]
    if missing:
        raise CommandError(
            f"this catlearn's cl.fit has no {missing[0]!r} argument, so "
            f"--{missing[0].replace('_', '-')} cannot work; upgrade catlearn"
        )
    diagram = model.build(data, s["seed"])
    train_xy, test_xy = data.split("train", functor), data.split("test", functor)
    quiet = s["quiet"]
    if not quiet:
        print(f"model {model}: {_size(diagram)}; dataset {data.name}: "
              f"{len(train_xy[1])} train, {len(test_xy[1])} {held} examples")
        print(f"semantics {s['semantics']}, optimiser {optimiser!r}, loss "
              f"{loss_name}, {_plural(s['epochs'], 'epoch')}, batch {s['batch_size']}, "
              f"seed {s['seed']}")
    result = fit(
        diagram, train_xy, semantics=functor, loss=loss, optimiser=optimiser,
        epochs=s["epochs"], batch_size=s["batch_size"], seed=s["seed"],
        validation=test_xy if s["validate"] else None, progress=not quiet, **extra,
    )
    if not quiet and result.history:
        print(history(result.history))
    logic_net = _is_logic(diagram)
    rows, scores = [], {}
    for split, xy in (("train", train_xy), (held, test_xy)):
        scores[split] = evaluate(diagram, result.params, xy, semantics=functor)
        rows.append(_row(split, scores[split], functor, logic_net))
    print(table(rows, _header(logic_net)))
    if "out" in s:
        io.save(s["out"], diagram, _numpy(result.params), metadata=_json({
            "catlearn_cli": 1, "model": str(model), "dataset": data.name,
            **({"data": s["data"], "target": s.get("target"),
                "classes": list(user.classes)} if "data" in s else {}),
            "semantics": s["semantics"], "optimiser": repr(optimiser),
            "loss": loss_name, "epochs": s["epochs"], "batch_size": s["batch_size"],
            "seed": s["seed"], "history": result.history, "scores": scores,
        }))
        print(f"saved model: {s['out']}")
    for key, what in (("plot", "training curves"), ("checkpoint", "checkpoint")):
        if key in s and pathlib.Path(s[key]).exists():
            print(f"{what}: {s[key]}")
    return 0


def history(rows: Sequence[dict[str, float]]) -> str:
    """The per-epoch history as a table (epochs as integers)."""
    keys = list(rows[0])
    return table([[int(r[k]) if k == "epoch" else r.get(k) for k in keys]
                  for r in rows], keys)


def _is_logic(diagram: Diagram) -> bool:
    """A logic network: every parameter is bits (a circuit once discretized)."""
    return {ty.inside[0].kind for ty in diagram.params.values()} == {"bits"}


def _header(logic_net: bool) -> tuple[str, ...]:
    head = ("split", "n", "loss", "accuracy")
    return (*head, "circuit accuracy") if logic_net else head


def _row(split: str, scores: dict[str, float], functor: Functor, logic_net: bool
         ) -> tuple[Any, ...]:
    """The scores of one split; ``circuit accuracy`` (logic networks): the
    discretized circuit's under a smooth semantics, the accuracy itself under
    Boolean and Kernel."""
    row = (split, int(scores["n"]), scores["loss"], scores.get("accuracy"))
    if not logic_net:
        return row
    exact = scores.get("accuracy") if isinstance(functor, Boolean) else \
        scores.get("discrete_accuracy")
    return (*row, exact)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _size(diagram: Diagram) -> str:
    sizes = [int(np.prod(ty.inside[0].shape)) for ty in diagram.params.values()]
    kinds = {ty.inside[0].kind for ty in diagram.params.values()}
    unit = "parameter bits" if kinds == {"bits"} else "parameters"
    return f"{len(sizes)} parameter arrays, {sum(sizes)} {unit}"


def _numpy(params: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in params.items()}


def _json(value: Any) -> Any:
    """Metadata as JSON takes it: NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


# -- eval, export, draw --------------------------------------------------------------
def _load(path: str) -> io.Saved:
    return io.load(path)


def evaluate_file(args: argparse.Namespace) -> int:
    saved = _load(specs.check_path(args.file, "FILE"))
    meta = saved.metadata
    if getattr(args, "data", None):
        return _evaluate_user_file(args, saved)
    name = args.dataset or meta.get("dataset")
    if name is None or (args.dataset is None and "data" in meta):
        if "data" in meta:
            raise UsageError(f"{args.file} was trained on the file {meta['data']!r}: "
                             "pass --data FILE to score a data file")
        raise UsageError(f"{args.file} does not name its dataset (it was not saved "
                         "by 'catlearn train'); pass --dataset (choose from "
                         f"{specs.choices(specs.DATASETS)})")
    functor = specs.semantics(args.semantics or meta.get("semantics", "smooth"))
    params = specs.params_for(saved.diagram, saved.params, functor)
    data = specs.load_data(name)
    scores = evaluate(saved.diagram, params, data.split(args.split, functor),
                      semantics=functor)
    print(f"{args.file}: model {meta.get('model', '(unnamed)')}, dataset {name}, "
          f"semantics {specs.semantics_name(functor)}")
    logic_net = _is_logic(saved.diagram)
    print(table([_row(args.split, scores, functor, logic_net)], _header(logic_net)))
    return 0


def _evaluate_user_file(args: argparse.Namespace, saved: io.Saved) -> int:
    """``catlearn eval MODEL --data FILE``: every example of the file, its
    labels numbered by the classes the model was trained on."""
    meta = saved.metadata
    target = args.target or meta.get("target")
    user = load_user_data(args.data, target, 0.5, 0)
    X = np.concatenate([user.train[0], user.test[0]])
    ids = np.concatenate([user.train[1], user.test[1]])
    names = np.asarray(user.classes)[ids]
    classes = [str(c) for c in meta.get("classes", user.classes)]
    unknown = sorted(set(names.tolist()) - set(classes))
    if unknown:
        raise UsageError(f"--data {args.data!r} has labels {unknown} the model was "
                         f"not trained on (its classes: {classes})")
    y = np.asarray([classes.index(c) for c in names], np.int32)
    functor = specs.semantics(args.semantics or meta.get("semantics", "smooth"))
    params = specs.params_for(saved.diagram, saved.params, functor)
    data = specs.Data(user.name, user.kind, (X, y), (X, y))
    scores = evaluate(saved.diagram, params, data.split("test", functor),
                      semantics=functor)
    print(f"{args.file}: model {meta.get('model', '(unnamed)')}, data {user.name} "
          f"({len(y)} examples), semantics {specs.semantics_name(functor)}")
    logic_net = _is_logic(saved.diagram)
    print(table([_row("all", scores, functor, logic_net)], _header(logic_net)))
    return 0


def export_file(args: argparse.Namespace) -> int:
    specs.check_path(args.file, "FILE")
    out = check_circuit_path(specs.check_path(args.out, "OUT"), "")  # before any work
    check_name(args.name, file_format(out, args.format), "", "--name")
    saved = _load(args.file)
    params = specs.params_for(saved.diagram, saved.params, Boolean())
    if params is not saved.params:
        print("relaxed tables discretized (cl.discretize): the exact circuit")
    report = export_circuit(args.out, saved.diagram, params, format=args.format,
                            fold=not args.no_fold, name=args.name)
    print(f"wrote {report.path} ({report.format}): {report.n_inputs} inputs "
          f"x[0..{report.n_inputs - 1}], {report.n_outputs} outputs "
          f"y[0..{report.n_outputs - 1}]")
    if args.no_fold:
        print(f"gates: {report.gates_before} (not folded)")
    else:
        print(f"gates: {report.gates_before} before folding, "
              f"{report.gates_after} after")
    for start, n, k in report.groups:
        size = n // k
        groups = ", ".join(f"{c}: y[{start + c * size}..{start + (c + 1) * size - 1}]"
                           for c in range(k))
        print(f"classes (count the ones of each group): {groups}")
    return 0


DRAW_SUFFIXES = (".png", ".svg", ".pdf")


def draw(args: argparse.Namespace) -> int:
    paths = [specs.check_path(p, "FILE" if i < len(args.paths) - 1 else "OUT")
             for i, p in enumerate(args.paths)]
    if args.model is not None and len(paths) != 1:
        raise UsageError("with --model, give only the picture to write, e.g. "
                         "catlearn draw --model mlp:4,16,3 mlp.png")
    if args.model is None and len(paths) != 2:
        raise UsageError("give a model file and the picture to write (FILE "
                         "OUT.png), or --model SPEC and OUT.png")
    out = paths[-1]
    if pathlib.Path(out).suffix not in DRAW_SUFFIXES:
        raise UsageError(f"cannot tell the picture format of {out!r} (choose a "
                         f"suffix from {specs.choices(DRAW_SUFFIXES)})")
    output_path(out, "OUT", "", "model.png")  # before any work
    if args.model is not None:
        data = specs.load_data(args.dataset) if args.dataset else None
        diagram = specs.parse_model(args.model).build(data, args.seed)
    else:
        diagram = _load(paths[0]).diagram
    diagram.draw(out)
    print(f"wrote {out}")
    return 0

