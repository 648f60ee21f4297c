"""The ``catlearn`` command line: the parser, one sub-command per verb, and
errors as one line on stderr (status 2 for bad usage, 1 for everything else;
``CATLEARN_DEBUG=1`` re-raises for a traceback)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .._errors import CatlearnError
from .._version import __version__
from . import _specs as specs
from ._commands import CommandError, draw, evaluate_file, export_file, train
from ._specs import UsageError

# catlearn.testing.EXAMPLES (that package needs hypothesis, which the other
# commands do not; tests/test_cli.py checks the two agree)
_EXAMPLES = 3

DESCRIPTION = """\
catlearn: models are string diagrams of parametrised lenses; functors
(smooth, boolean, kernel, relaxed-kernel) give them meaning."""

EPILOG = """\
examples:
  catlearn demo --quick
  catlearn train --dataset monk1 --model network:64x2 --semantics boolean \\
      --epochs 20 --out monk1.catlearn
  catlearn eval monk1.catlearn
  catlearn export monk1.catlearn monk1.v
  catlearn laws --semantics boolean
  catlearn draw monk1.catlearn monk1.png

'catlearn COMMAND --help' describes each command."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, without the usage dump."""

    def error(self, message: str) -> NoReturn:
        hit = re.match(r"argument (?:command|COMMAND): invalid choice: '(.*?)'",
                       message)
        if hit:
            message = f"unknown command {hit.group(1)!r} (choose from {COMMANDS})"
        raise UsageError(message, self.prog)


def _seed(text: str) -> int:
    """The type of every ``--seed``: an int from 0 to 2**32 - 1, as cl.fit."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid seed {text!r}: give a whole number from 0 to 2**32 - 1 = "
            f"{specs.SEEDS - 1} written out in digits, e.g. --seed 0"
        ) from None
    try:
        return specs.check_seed(value, "it")
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _add(sub: Any, name: str, help: str, description: str, epilog: str = ""
         ) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=description, epilog=epilog,
        formatter_class=_formatter,
    )
    return parser


def _train_parser(sub: Any) -> argparse.ArgumentParser:
    S = argparse.SUPPRESS
    p = _add(sub, "train", "train a model on a dataset and save it", """\
Train a model on a bundled dataset under a semantics and print its history and
train/test scores. Options come from flags or from a TOML file (--config) with
the same keys (model, dataset, semantics, optimiser, loss, lr, epochs,
batch_size, seed, flips, min_votes, margin, balance, validate, out, checkpoint,
checkpoint_every, resume, plot, quiet); flags override the file.""", f"""\
models:
  mlp:SIZES[:ACTIVATION]   cl.nn.mlp, e.g. mlp:4,16,3 or mlp:4,32,32,3:tanh
  network:WIDTHS[:RELAX]   cl.logic.network, e.g. network:256x4 or network:64,32;
                           inputs and classes come from the dataset
  default: mlp:N_IN,16,N_CLASSES on real data, network:64,64 on bits

datasets:
{_datasets()}

optimisers: adam (lr 0.01; 0.05 for networks), sgd (lr 0.1), momentum
  (lr 0.05), rda (Reverse Derivative Ascent over Z2: --flips, --min-votes,
  --margin, --no-balance). Default: rda under boolean and kernel, else adam.
losses: hamming for rda, softmax-cross-entropy otherwise (--loss).

examples:
  catlearn train --dataset iris --model mlp:4,16,3 --epochs 50 --out iris.catlearn
  catlearn train --dataset monk1 --model network:256x4 --semantics boolean \\
      --epochs 100 --batch-size 16 --out monk1.catlearn --plot monk1.png
  catlearn train --config examples/configs/monk1_rda.toml --epochs 5""")
    p.add_argument("--config", metavar="FILE.toml", help="read settings from a "
                   "TOML file (flags override it)")
    p.add_argument("--model", metavar="SPEC", default=S,
                   help="mlp:SIZES or network:WIDTHS (see below)")
    p.add_argument("--dataset", metavar="NAME", default=S,
                   help=f"one of {specs.choices(specs.DATASETS)}")
    p.add_argument("--data", metavar="FILE", default=S,
                   help="your own data instead of --dataset: a .csv file with a "
                   "header row, or a .npz archive (arrays X and y)")
    p.add_argument("--target", metavar="COLUMN", default=S,
                   help="--data: the column (name or number) or array of class "
                   "labels")
    p.add_argument("--val-split", type=float, metavar="F", default=S,
                   help="--data: the fraction held out for validation (default "
                   "0.2, stratified, from --seed)")
    p.add_argument("--semantics", metavar="NAME", default=S,
                   help=f"one of {specs.choices(specs.SEMANTICS)} (default smooth)")
    p.add_argument("--optimiser", "--optimizer", metavar="NAME", default=S,
                   help=f"one of {specs.choices(specs.OPTIMISERS)}")
    p.add_argument("--loss", metavar="NAME", default=S,
                   help=f"one of {specs.choices(specs.LOSSES)}")
    p.add_argument("--lr", type=float, metavar="RATE", default=S,
                   help="learning rate (adam, sgd, momentum)")
    p.add_argument("--epochs", type=int, metavar="N", default=S,
                   help="passes over the training split (default 10)")
    p.add_argument("--batch-size", type=int, metavar="N", default=S,
                   help="examples per step (default 32)")
    p.add_argument("--seed", type=_seed, metavar="N", default=S,
                   help="seed of the wiring, initialisation and shuffling "
                   "(default 0)")
    p.add_argument("--flips", type=int, metavar="N", default=S,
                   help="rda: bits flipped per parameter array and step "
                   "(default 1; 0 = every bit with enough votes)")
    p.add_argument("--min-votes", type=int, metavar="N", default=S,
                   help="rda: net votes a flip needs (default 1)")
    p.add_argument("--margin", type=float, metavar="F", default=S,
                   help="rda: examples won by less than this fraction of a "
                   "class group vote (default 1/16)")
    p.add_argument("--no-balance", dest="balance", action="store_false",
                   default=S, help="rda: do not balance votes by the examples a "
                   "flip would break")
    p.add_argument("--validate", action="store_true", default=S,
                   help="score the test split after every epoch (val_* columns)")
    p.add_argument("--out", metavar="FILE", default=S,
                   help="save the trained model (cl.save) for eval/export/draw")
    p.add_argument("--checkpoint", metavar="FILE", default=S,
                   help="write checkpoints while training")
    p.add_argument("--checkpoint-every", type=int, metavar="N", default=S,
                   help="steps between checkpoints")
    p.add_argument("--resume", metavar="FILE", default=S,
                   help="resume training from a checkpoint")
    p.add_argument("--plot", metavar="FILE.png", default=S,
                   help="draw the training curves to a PNG")
    p.add_argument("-q", "--quiet", action="store_true", default=S,
                   help="no progress bar or history; only the final scores")
    return p


def _datasets() -> str:
    return "\n".join(f"  {name:<10} {text}" for name, (_, text)
                     in specs.DATASETS.items())


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = _Parser(prog="catlearn", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=_formatter)
    parser.add_argument("--version", action="version",
                        version=f"catlearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                title="commands")
    subs = {}

    d = _add(sub, "demo", "train a MONK-1 logic network under every semantics",
             "Train one logic-gate network on MONK-1 by gradient descent (Smooth, "
             "RelaxedKernel)\nand by Reverse Derivative Ascent (Boolean, Kernel); "
             "print the test accuracies.", "example:\n  catlearn demo --quick")
    d.add_argument("--quick", action="store_true",
                   help="a small network and a few epochs (seconds)")
    d.add_argument("--seed", type=_seed, default=0, metavar="N", help="default 0")
    subs["demo"] = d

    subs["train"] = _train_parser(sub)

    e = _add(sub, "eval", "score a saved model on a dataset split",
             "Load a model file (cl.load) and score it (cl.evaluate). The dataset "
             "and semantics\ndefault to the ones it was trained with; a logic "
             "network's tables are discretized\nor relaxed to suit the semantics.",
             "examples:\n  catlearn eval monk1.catlearn\n"
             "  catlearn eval monk1.catlearn --semantics kernel --split train")
    e.add_argument("file", metavar="FILE", help="a model saved by catlearn train "
                   "(or cl.save)")
    e.add_argument("--dataset", metavar="NAME",
                   help=f"one of {specs.choices(specs.DATASETS)}")
    e.add_argument("--data", metavar="FILE",
                   help="score every example of your own .csv/.npz file (labels "
                   "numbered as when the model was trained on --data)")
    e.add_argument("--target", metavar="COLUMN",
                   help="--data: the label column (default: the training one)")
    e.add_argument("--split", choices=("train", "test"), default="test",
                   help="default test")
    e.add_argument("--semantics", metavar="NAME",
                   help=f"one of {specs.choices(specs.SEMANTICS)}")
    subs["eval"] = e

    x = _add(sub, "export", "write a trained logic network as a circuit",
             "Write the exact circuit of a saved logic network as Verilog (.v), "
             "BLIF (.blif)\nor ASCII AIGER (.aag), constant-folded; relaxed "
             "tables are discretized first.",
             "examples:\n  catlearn export monk1.catlearn monk1.v\n"
             "  catlearn export monk1.catlearn monk1.aag --no-fold")
    x.add_argument("file", metavar="FILE", help="a saved model")
    x.add_argument("out", metavar="OUT", help="OUT.v, OUT.blif or OUT.aag")
    x.add_argument("--no-fold", action="store_true",
                   help="keep the circuit as trained (no constant folding)")
    x.add_argument("--format", choices=("verilog", "blif", "aiger"),
                   help="instead of the suffix's")
    x.add_argument("--name", default="catlearn_net",
                   help="Verilog module / BLIF model name")
    subs["export"] = x

    law = _add(sub, "laws", "check a functor's laws on random diagrams",
               "Run catlearn.testing.check_functor: first every generator of the "
               "signature (the\nuser's own first) alone and fed by parameters, "
               "against the oracle, RD.2,\nRD.6, RD.7 and the reference "
               "semantics, and repeated (the repeat pass against\nthe steps "
               "one by one); then every law (functoriality, the\nreverse pass "
               "against its oracle, lens composition, RD.1-RD.7, agreement "
               "with\nthe reference semantics) on random diagrams. Stops at the "
               "first failure\n(--keep-going runs the rest); exit status 1 if "
               "any law fails. A rule in the\nfunctor's table that no generator "
               "uses fails too: pass its box with\n--generators. Needs "
               "hypothesis: pip install \"catlearn[testing]\".",
               "examples:\n  catlearn laws --semantics boolean\n"
               "  catlearn laws --functor mylib.rules:F --generators "
               "mylib.rules:BOXES")
    law.add_argument("--semantics", metavar="NAME", default=None,
                     help=f"one of {specs.choices(specs.SEMANTICS)} (default "
                     "smooth, or the kind of --functor): the functor, signature "
                     "and oracle")
    law.add_argument("--functor", metavar="MODULE:NAME",
                     help="check this functor (e.g. cl.Smooth().extend(rules)); "
                     "its kind gives the signature and oracle")
    law.add_argument("--generators", action="append", metavar="MODULE:NAME",
                     help="a box, diagram or list of them for the functor's own "
                     "rules (repeatable)")
    law.add_argument("--examples", type=int, default=_EXAMPLES, metavar="N",
                     help=f"random diagrams per law (default {_EXAMPLES}; RD.6 "
                     "and RD.7 take half)")
    law.add_argument("--law", action="append", metavar="TEXT",
                     help="only the laws whose name contains TEXT (repeatable)")
    law.add_argument("--keep-going", action="store_true",
                     help="run every law after a failure")
    law.add_argument("--shrink", action="store_true",
                     help="shrink a failure to a minimal counterexample (slower)")
    law.add_argument("--seed", type=_seed, default=0, metavar="N", help="default 0")
    subs["laws"] = law

    dr = _add(sub, "draw", "draw a model's string diagram",
              "Draw the string diagram of a saved model, or of a model spec, to "
              "a PNG, SVG or PDF.",
              "examples:\n  catlearn draw monk1.catlearn monk1.png\n"
              "  catlearn draw --model mlp:4,16,3 mlp.svg\n"
              "  catlearn draw --model network:64x3 --dataset monk1 net.png")
    dr.add_argument("paths", nargs="+", metavar="[FILE] OUT",
                    help="the model file (unless --model) and the picture")
    dr.add_argument("--model", metavar="SPEC", help="draw this spec instead")
    dr.add_argument("--dataset", metavar="NAME",
                    help="inputs and classes of a network spec")
    dr.add_argument("--seed", type=_seed, default=0, metavar="N",
                    help="wiring seed of a network spec")
    subs["draw"] = dr
    return parser, subs


def _laws(args: argparse.Namespace) -> int:
    from ._laws import laws

    return laws(args)


def _demo(args: argparse.Namespace) -> int:
    from ._demo import demo

    return demo(args)


RUN: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": _demo, "train": train, "eval": evaluate_file, "export": export_file,
    "laws": _laws, "draw": draw,
}
COMMANDS = ", ".join(RUN)


def _say(prog: str, message: Any) -> None:
    text = " ".join(str(message).split())
    print(f"{prog}: error: {text}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``catlearn`` command with ``argv`` (default ``sys.argv[1:]``);
    return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, subs = build_parser()
    prog = "catlearn"
    try:
        args, extra = parser.parse_known_args(argv)
        if args.command is None:
            raise UsageError(f"no command given (choose from {COMMANDS})", prog)
        prog = subs[args.command].prog
        if extra:
            raise UsageError(f"unrecognized arguments: {' '.join(extra)}", prog)
        return RUN[args.command](args)
    except SystemExit as done:  # --help, --version
        return done.code if isinstance(done.code, int) else 0
    except UsageError as err:
        if os.environ.get("CATLEARN_DEBUG"):
            raise
        where = err.args[1] if len(err.args) > 1 else prog
        _say(where, f"{err.args[0]}; see '{where} --help'")
        return 2
    except BrokenPipeError:  # e.g. catlearn laws | head: stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except (CatlearnError, CommandError, OSError) as err:
        if os.environ.get("CATLEARN_DEBUG"):
            raise
        if isinstance(err, OSError) and err.filename is not None and not isinstance(
            err, CatlearnError
        ):
            _say(prog, f"{err.strerror or err}: {err.filename!r}")
        else:
            _say(prog, err)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
