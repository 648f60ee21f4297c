"""Smooth model builders: each returns a small diagram of ``Param`` boxes and
generators that ``cl.Smooth()`` interprets.

>>> import catlearn as cl
>>> model = cl.nn.mlp([4, 16, 3])
>>> model.dom, model.cod
(monoidal.Ty(real(4)), monoidal.Ty(real(3)))
>>> list(model.params)
['mlp.0.w', 'mlp.0.b', 'mlp.1.w', 'mlp.1.b']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ._errors import TypeSpecError
from .diagrams import Box, Diagram, Id, Param, is_count, real

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax")


def _elementwise(name: str, n: int) -> Diagram:
    return Box(name, real(n), real(n))


def relu(n: int) -> Diagram:
    """``max(x, 0)`` on ``real(n)``."""
    return _elementwise("relu", n)


def sigmoid(n: int) -> Diagram:
    """``1 / (1 + exp(-x))`` on ``real(n)``."""
    return _elementwise("sigmoid", n)


def tanh(n: int) -> Diagram:
    """``tanh(x)`` on ``real(n)``."""
    return _elementwise("tanh", n)


def softmax(n: int) -> Diagram:
    """Softmax over the ``n`` features of each example."""
    return _elementwise("softmax", n)


def add(n: int) -> Diagram:
    """``real(n) @ real(n) -> real(n)``: elementwise sum (the monoid of R[copy])."""
    return Box("add", real(n) @ real(n), real(n))


def mul(n: int) -> Diagram:
    """``real(n) @ real(n) -> real(n)``: elementwise product."""
    return Box("mul", real(n) @ real(n), real(n))


def reshape(shape: Sequence[int], new_shape: Sequence[int]) -> Diagram:
    """``real(*shape) -> real(*new_shape)``, the same numbers in row-major
    order (``cl.logic.reshape`` is its twin on bits). The box's check
    refuses shapes of different sizes."""
    return Box("reshape", real(*shape), real(*new_shape))


def flatten(*shape: int) -> Diagram:
    """``real(*shape) -> real(n)``, ``n`` the number of entries (row-major)."""
    return reshape(shape, (math.prod(shape),))


def linear(n_in: int, n_out: int, name: str = "linear") -> Diagram:
    """``x -> x @ W`` with parameter ``{name}.w`` of type ``real(n_in, n_out)``,
    drawn uniformly in ``±1/sqrt(n_in)``."""
    w = Param(f"{name}.w", real(n_in, n_out), init="uniform", scale=_fan_in(n_in))
    return (w @ real(n_in)) >> Box(
        "matmul", real(n_in, n_out) @ real(n_in), real(n_out)
    )


def bias(
    n: int, name: str = "bias", init: str = "zeros", scale: float = 1.0
) -> Diagram:
    """``x -> x + b`` with parameter ``{name}.b`` of type ``real(n)``."""
    b = Param(f"{name}.b", real(n), init=init, scale=scale)
    return (b @ real(n)) >> add(n)


def dense(
    n_in: int, n_out: int, activation: str | None = "relu", name: str = "dense"
) -> Diagram:
    """``linear >> bias >> activation``, parameters ``{name}.w`` and ``{name}.b``
    (both uniform in ``±1/sqrt(n_in)``, as equinox and PyTorch do).
    ``activation=None`` leaves the layer linear."""
    layer = linear(n_in, n_out, name=name) >> bias(
        n_out, name=name, init="uniform", scale=_fan_in(n_in)
    )
    return layer if activation is None else layer >> activation_box(activation, n_out)


def mlp(
    sizes: Sequence[int], activation: str | None = "relu", name: str = "mlp"
) -> Diagram:
    """Dense layers ``sizes[0] -> ... -> sizes[-1]``, ``activation`` between
    them and none after the last (the outputs are logits). Layer ``i`` has
    parameters ``{name}.{i}.w`` and ``{name}.{i}.b``."""
    if isinstance(sizes, str) or not isinstance(sizes, Iterable):
        raise TypeSpecError(
            f"mlp: sizes must be a list of layer sizes, got {sizes!r} "
            f"({type(sizes).__name__}). Fix: e.g. cl.nn.mlp([4, 16, 3])."
        )
    sizes = list(sizes)
    for i, n in enumerate(sizes):
        _check_size(n, f"mlp({sizes}): sizes[{i}]")
    if len(sizes) < 2:
        raise TypeSpecError(
            f"mlp({sizes}) needs at least two sizes (inputs and outputs), e.g. "
            "cl.nn.mlp([4, 16, 3])."
        )
    layers = [
        dense(a, b, activation if i < len(sizes) - 2 else None, name=f"{name}.{i}")
        for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False))
    ]
    return Diagram.then(Id(real(sizes[0])), *layers)


def activation_box(activation: str, n: int) -> Diagram:
    """The elementwise box named ``activation`` on ``real(n)``."""
    if activation not in ACTIVATIONS:
        raise TypeSpecError(
            f"activation {activation!r} is not one of {ACTIVATIONS} (or None). "
            'Fix: e.g. activation="relu", or None for a linear layer.'
        )
    return _elementwise(activation, n)


def _check_size(n: Any, what: str) -> int:
    if not is_count(n):
        raise TypeSpecError(
            f"{what} must be a positive int (a number of features), got {n!r} "
            f"({type(n).__name__}). Fix: e.g. 16."
        )
    return int(n)


def _fan_in(n_in: int) -> float:
    return 1.0 / math.sqrt(_check_size(n_in, "n_in"))
