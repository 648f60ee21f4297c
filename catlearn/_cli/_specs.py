"""What the command's words mean: data sets, model specs, semantics,
optimisers and losses by name, and training settings from flags and a TOML
file (those in ``_settings.py``, re-exported here). Every bad value raises
:class:`UsageError` with a one-line message.

>>> parse_model("network:256x4").widths
(256, 256, 256, 256)
>>> parse_model("mlp:4,16,3:tanh")
ModelSpec(kind='mlp', sizes=(4, 16, 3), option='tanh')
>>> parse_model("cnn:3")
Traceback (most recent call last):
...
catlearn.cli.UsageError: unknown model 'cnn:3' (choose from mlp:SIZES...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import datasets as ds
from .. import learn, logic, nn
from ..diagrams import Diagram
from ..functors import (
    Boolean,
    Functor,
    Kernel,
    RelaxedKernel,
    Smooth,
    discretize,
    relax,
)
from ._settings import KEYS as KEYS
from ._settings import NON_NEGATIVE as NON_NEGATIVE
from ._settings import PATHS as PATHS
from ._settings import POSITIVE as POSITIVE
from ._settings import SEEDS as SEEDS
from ._settings import check_path as check_path
from ._settings import check_seed as check_seed
from ._settings import check_value as check_value
from ._settings import read_config as read_config
from ._usage import UsageError as UsageError
from ._usage import choices as choices


# -- data sets ------------------------------------------------------------------
@dataclass(frozen=True)
class Data:
    """A data set with a train and a test split; ``kind`` is ``"real"`` or
    ``"bits"`` (bool inputs, for logic networks)."""

    name: str
    kind: str
    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]

    @property
    def n_in(self) -> int:
        return int(self.train[0].shape[1])

    @property
    def n_classes(self) -> int:
        return int(max(self.train[1].max(), self.test[1].max())) + 1

    def split(self, name: str, semantics: Functor) -> tuple[np.ndarray, np.ndarray]:
        """The split ``name`` as ``semantics`` takes it: bits are bool under
        Boolean and Kernel, floats in {0, 1} under the smooth semantics."""
        X, y = self.train if name == "train" else self.test
        if self.kind == "bits":
            X = X.astype(bool if isinstance(semantics, Boolean) else np.float32)
        return X, y


def _iris(binary: bool) -> Data:
    X, y = ds.load_iris_binary(levels=3) if binary else ds.load_iris()
    X_train, X_test, y_train, y_test = ds.train_test_split(X, y, seed=0)
    if not binary:  # standardised by the training split's statistics
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        X_train, X_test = ((a - mean) / std for a in (X_train, X_test))
    name = "iris-bits" if binary else "iris"
    kind = "bits" if binary else "real"
    return Data(name, kind, (X_train, y_train), (X_test, y_test))


def _monk(k: int) -> Data:
    return Data(f"monk{k}", "bits", ds.load_monk(k, "train"), ds.load_monk(k, "test"))


DATASETS: dict[str, tuple[Callable[[], Data], str]] = {
    "iris": (lambda: _iris(False), "150 flowers, 4 real features, 3 classes; "
             "stratified 70/30 split (seed 0), standardised"),
    "iris-bits": (lambda: _iris(True), "iris as 12 bits (3-level thermometer "
                  "code per feature), the same split"),
    "monk1": (lambda: _monk(1), "MONK-1: 17 bits, 2 classes; 124 training "
              "robots, all 432 for test"),
    "monk2": (lambda: _monk(2), "MONK-2: 169 training robots, all 432 for test"),
    "monk3": (lambda: _monk(3), "MONK-3: 122 training robots (5% noise), all "
              "432 for test"),
}


def load_data(name: str) -> Data:
    if name not in DATASETS:
        raise UsageError(f"unknown dataset {name!r} (choose from {choices(DATASETS)})")
    return DATASETS[name][0]()


# -- models ------------------------------------------------------------------------
MODEL_HELP = "mlp:SIZES[:ACTIVATION], network:WIDTHS[:RELAX], e.g. mlp:4,16,3 or " \
    "network:256x4"


@dataclass(frozen=True)
class ModelSpec:
    """``mlp:4,16,3`` (``cl.nn.mlp``) or ``network:256x4`` / ``network:64,32``
    (``cl.logic.network``, inputs and classes from the data set)."""

    kind: str
    sizes: tuple[int, ...]
    option: str | None = None

    @property
    def widths(self) -> tuple[int, ...]:
        return self.sizes

    def __str__(self) -> str:
        text = f"{self.kind}:{','.join(map(str, self.sizes))}"
        return text if self.option is None else f"{text}:{self.option}"

    def build(self, data: Data | None, seed: int) -> Diagram:
        if self.kind == "mlp":
            if data is not None:
                want = (data.n_in, data.n_classes)
                if data.kind != "real" or (self.sizes[0], self.sizes[-1]) != want:
                    hidden = self.sizes[1:-1] or (16,)
                    fix = ",".join(map(str, (data.n_in, *hidden, data.n_classes)))
                    raise UsageError(
                        f"model {self} does not fit dataset {data.name!r} "
                        f"({data.n_in} {data.kind} inputs, {data.n_classes} "
                        f"classes); e.g. --model mlp:{fix}"
                        + ("" if data.kind == "real" else " (bit inputs as reals)")
                    )
            return nn.mlp(list(self.sizes), activation=self.option or "relu")
        if data is None:
            raise UsageError(
                f"model {self} takes its inputs and classes from a dataset; pass "
                f"--dataset (choose from {choices(DATASETS)})"
            )
        if data.kind != "bits":
            raise UsageError(
                f"model {self} is a logic network: it reads bits, but dataset "
                f"{data.name!r} has real features; use a bit dataset such as "
                "iris-bits or monk1"
            )
        return logic.network(data.n_in, list(self.sizes), data.n_classes, seed=seed,
                             relax=self.option or "sin")


def _ints(text: str, what: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in text.split(","):
        count = 1
        if "x" in part:  # 256x4: four layers of 256
            part, _, times = part.partition("x")
            count = int(times) if times.isdigit() else -1
        if not part.isdigit() or int(part) < 1 or count < 1:
            raise ValueError(what)
        out += [int(part)] * count
    return tuple(out)


def parse_model(text: str) -> ModelSpec:
    kind, _, rest = text.partition(":")
    sizes, _, option = rest.partition(":")
    if kind not in ("mlp", "network"):
        raise UsageError(f"unknown model {text!r} (choose from {MODEL_HELP})")
    try:
        parsed = _ints(sizes, text)
    except ValueError:
        raise UsageError(
            f"bad model {text!r}: sizes must be positive integers separated by "
            f"commas ({MODEL_HELP})"
        ) from None
    if kind == "mlp":
        if len(parsed) < 2:
            raise UsageError(
                f"bad model {text!r}: an mlp needs its input, hidden and output "
                "sizes, e.g. mlp:4,16,3"
            )
        if option and option not in nn.ACTIVATIONS:
            raise UsageError(f"bad model {text!r}: unknown activation {option!r} "
                             f"(choose from {choices(nn.ACTIVATIONS)})")
    elif option and option not in logic.RELAXATIONS:
        raise UsageError(f"bad model {text!r}: unknown relaxation {option!r} "
                         f"(choose from {choices(logic.RELAXATIONS)})")
    return ModelSpec(kind, parsed, option or None)


def default_model(data: Data) -> ModelSpec:
    if data.kind == "bits":  # the last width splits into the class groups
        return ModelSpec("network", (64, 64 // data.n_classes * data.n_classes))
    return ModelSpec("mlp", (data.n_in, 16, data.n_classes))


# -- semantics, optimisers, losses -------------------------------------------------
SEMANTICS: dict[str, Callable[[], Functor]] = {
    "smooth": Smooth,
    "boolean": Boolean,
    "kernel": Kernel,
    "relaxed-kernel": RelaxedKernel,
}


def semantics(name: str) -> Functor:
    if name not in SEMANTICS:
        raise UsageError(
            f"unknown semantics {name!r} (choose from {choices(SEMANTICS)})"
        )
    return SEMANTICS[name]()


def semantics_name(functor: Functor) -> str:
    """The command's name of a functor (the most specific kind)."""
    for name, kind in (("relaxed-kernel", RelaxedKernel), ("kernel", Kernel),
                       ("boolean", Boolean), ("smooth", Smooth)):
        if isinstance(functor, kind):
            return name
    return type(functor).__name__


LR = {"adam": 1e-2, "sgd": 0.1, "momentum": 0.05}
OPTIMISERS = ("adam", "sgd", "momentum", "rda")
RDA_KEYS = ("flips", "min_votes", "margin", "balance")
LOSSES: dict[str, learn.losses.Loss] = {
    "softmax-cross-entropy": learn.losses.softmax_cross_entropy,
    "mse": learn.losses.mse,
    "hamming": learn.losses.hamming,
}


def optimiser(settings: Mapping[str, Any], model: ModelSpec) -> Any:
    name = settings["optimiser"]
    if name not in OPTIMISERS:
        raise UsageError(f"unknown optimiser {name!r} (choose from "
                         f"{choices(OPTIMISERS)})")
    if name == "rda":
        if "lr" in settings:
            raise UsageError("lr does not apply to rda: the number of bits flipped "
                             "per step plays the learning rate (flips)")
        flips = settings.get("flips", 1)
        return learn.optim.rda(
            flips=None if flips == 0 else flips,
            min_votes=settings.get("min_votes", 1),
            seed=settings.get("seed", 0),
            balance=settings.get("balance", True),
            margin=settings.get("margin", 1 / 16),
        )
    extra = [k for k in RDA_KEYS if k in settings]
    if extra:
        raise UsageError(f"{extra[0]} applies to the rda optimiser only, not "
                         f"{name!r}")
    default = 0.05 if name == "adam" and model.kind == "network" else LR[name]
    lr = settings.get("lr", default)
    make: dict[str, Callable[[float], Any]] = {
        "adam": learn.optim.adam, "sgd": learn.optim.sgd,
        "momentum": learn.optim.momentum,
    }
    return make[name](lr)


def loss(settings: Mapping[str, Any]) -> tuple[str, learn.losses.Loss]:
    """The loss's name and the loss: hamming for rda, softmax cross-entropy
    otherwise, unless ``settings["loss"]`` names one."""
    name = settings.get("loss")
    if name is None:
        name = "hamming" if settings["optimiser"] == "rda" else "softmax-cross-entropy"
    if name not in LOSSES:
        raise UsageError(f"unknown loss {name!r} (choose from {choices(LOSSES)})")
    return name, LOSSES[name]


def params_for(diagram: Diagram, params: dict[str, Any], functor: Functor
               ) -> dict[str, Any]:
    """``params`` as ``functor`` takes them: a logic network's relaxed tables
    are discretized for Boolean and Kernel, and its bits relaxed for the smooth
    semantics. Other parameters pass unchanged."""
    kinds = {ty.inside[0].kind for ty in diagram.params.values()}
    if kinds != {"bits"}:
        return params
    floats = any(np.issubdtype(np.asarray(v).dtype, np.floating)
                 for v in params.values())
    if isinstance(functor, Boolean) and floats:
        return discretize(diagram, params)
    if not isinstance(functor, Boolean) and not floats:
        return relax(diagram, params)
    return params
