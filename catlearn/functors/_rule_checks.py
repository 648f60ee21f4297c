"""What a program checks of its rules while it is traced: one array per output
wire, shaped as the functor lays out that wire, and one cotangent per input,
shaped like the input. The checks read shapes only, so under ``jax.jit`` they
run once per trace and cost nothing per step.

A rule that breaks its contract fails here, at the box that broke it, instead
of as a ``zip`` error or a silently wrong gradient further on:

>>> import jax.numpy as jnp, catlearn as cl
>>> bad = cl.Rule(lambda box, x: ((x[:, :2],), None), lambda box, r, dy: (dy,))
>>> F = cl.Smooth().extend({"tanh": bad})
>>> F(cl.nn.tanh(3))({}, jnp.ones((5, 3)))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
catlearn._errors.ShapeError: the forward rule of box 'tanh' (real(3) -> real(3)) ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from .._errors import SemanticsError, ShapeError
from ..diagrams import Wire
from ._sizes import native

if TYPE_CHECKING:
    from ._functor import Functor
    from ._program import Slot, Step

Shape = tuple[int | None, ...]


def _fits(shape: Sequence[int | None] | None, want: Shape) -> bool:
    """Whether ``shape`` matches ``want`` (``None`` on either side: any size)."""
    return (
        shape is not None
        and len(shape) == len(want)
        and all(
            None in (s, w) or s == w for s, w in zip(shape, want, strict=True)
        )
    )


def _show(shape: Shape) -> str:
    return "(" + ", ".join("any" if n is None else str(n) for n in shape) + (
        ",)" if len(shape) == 1 else ")")


def _ty(ty: Any) -> str:
    wires = getattr(ty, "inside", ())
    return " @ ".join(map(repr, wires)) if wires else "Ty()"


def _where(functor: Functor, step: Step) -> str:
    box = step.box
    dom, cod = getattr(box, "dom", None), getattr(box, "cod", None)
    types = f" ({_ty(dom)} -> {_ty(cod)})" if dom is not None else ""
    return f"box {box.name!r}{types} under {functor!r}"


def _count(values: Any, n: int, rule: str, what: str, need: str) -> None:
    """A ``ShapeError`` unless ``values`` is a tuple (or list) of ``n``."""
    if isinstance(values, tuple | list) and len(values) == n:
        return
    got = (f"{len(values)} {what}(s)" if isinstance(values, tuple | list)
           else f"a bare {type(values).__name__}")
    raise ShapeError(f"{rule} returned {got} where its {n} {need}")


def check_outputs(
    functor: Functor, step: Step, ys: Any, slots: Sequence[Slot], batch: int | None
) -> tuple[Any, ...]:
    """``ys`` as the step's outputs, checked: a tuple with one array per output
    wire, each of the shape ``functor.value_shape`` gives its slot."""
    where = _where(functor, step)
    _count(ys, len(step.outs), f"the forward rule of {where}", "output",
           "output wire(s) need one array each. Fix: return (outputs, residuals) "
           "with outputs a tuple, e.g. ((y,), residuals) for one output.")
    for j, (y, s) in enumerate(zip(ys, step.outs, strict=True)):
        slot = slots[s]
        want = functor.value_shape(slot.wire, slot.batched, batch)
        shape = getattr(y, "shape", None)
        if not _fits(shape, want):
            got = "no array" if shape is None else f"the shape {tuple(shape)}"
            kind = f"batch {batch}" if slot.batched else "no batch axis: it " \
                "depends on parameters only"
            raise ShapeError(
                f"the forward rule of {where} gave output {j} {got}, but its wire "
                f"{slot.wire!r} holds {_show(want)} here ({kind}). Fix: return "
                f"one array per output wire, laid out as {functor!r} lays out "
                f"{slot.wire!r}."
            )
    return tuple(ys)


def check_cotangents(
    functor: Functor,
    step: Step,
    d_ins: Any,
    env: Sequence[Any],
    slots: Sequence[Slot],
    batch: int | None,
) -> tuple[Any, ...]:
    """``d_ins`` as the step's input cotangents, checked: one per input wire
    (``None`` for zero), each shaped like its input's value, or, for an input
    without a batch axis read by a batched step, one cotangent per example
    (``functor.per_example_shape``), which the program sums."""
    where = _where(functor, step)
    _count(d_ins, len(step.ins), f"the reverse rule of {where}", "cotangent",
           "input wire(s) need one cotangent each (None for zero). Fix: return "
           "a tuple, e.g. (dx,) for one input.")
    batched_step = any(slots[s].batched for s in step.ins)
    for i, (d, s) in enumerate(zip(d_ins, step.ins, strict=True)):
        if d is None:
            continue
        like = tuple(env[s].shape)
        wants: list[Shape] = [like]
        if batched_step and not slots[s].batched and batch is not None:
            per_example = functor.per_example_shape(like, batch)
            if per_example != like:
                wants.append(per_example)
        shape = functor.cotangent_shape(d)
        if not any(_fits(shape, w) for w in wants):
            got = "no array" if shape is None else f"the shape {_show(shape)}"
            also = f" or {_show(wants[1])} (one per example)" if len(wants) > 1 else ""
            raise ShapeError(
                f"the reverse rule of {where} gave the cotangent of input {i} "
                f"({slots[s].wire!r}) {got}, but that input has the shape "
                f"{_show(like)}: expected {_show(like)}{also}. Fix: return one "
                "cotangent per input, shaped like the input (sum over axes the "
                "forward pass broadcast)."
            )
    return tuple(d_ins)


def check_output_cotangents(
    program: Any, dys: tuple[Any, ...], outs: Sequence[Any]
) -> None:
    """A ``ShapeError`` unless ``dys`` has one cotangent per output of
    ``program``, each shaped like the output ``outs`` holds."""
    if len(dys) != len(outs):
        raise ShapeError(
            f"reverse of {program!r}: got {len(dys)} output cotangent(s), expected "
            f"{len(outs)} (one per output wire {list(program.cod)}). Fix: pass "
            "dys as a tuple with one array per output wire."
        )
    for i, (dy, y) in enumerate(zip(dys, outs, strict=True)):
        shape = tuple(getattr(dy, "shape", ()))
        if shape != tuple(y.shape):
            raise ShapeError(
                f"reverse of {program!r}: the cotangent of output {i} "
                f"({program.cod[i]!r}) has shape {shape}, but the output has shape "
                f"{tuple(y.shape)}. Fix: pass one cotangent per output value, "
                f"shaped like prog(params, *xs)."
            )


def check_pair(result: Any, step: Step, functor: Functor) -> tuple[Any, Any]:
    """A forward rule's ``(outputs, residuals)``, or a ``ShapeError``."""
    if isinstance(result, tuple) and len(result) == 2:
        return result[0], result[1]
    raise ShapeError(
        f"the forward rule of box {step.box.name!r} under {functor!r} returned "
        f"{type(result).__name__} {_brief(result)}, not the pair (outputs, "
        "residuals). Fix: return ((y,), residuals), e.g. ((y,), None) when the "
        "reverse rule needs nothing."
    )


def _brief(v: Any) -> str:
    shape = getattr(v, "shape", None)
    if shape is not None:
        return f"of shape {tuple(shape)}"
    return f"of length {len(v)}" if isinstance(v, tuple | list) else ""


def check_arrays(
    program: Any, xs: tuple[Any, ...], wires: Sequence[Wire], what: str, shapes: bool
) -> tuple[Any, ...]:
    """Arrays ``xs`` fed to ``wires`` (inputs, or output cotangents), checked:
    a dtype and (on concrete arrays) values the functor reads; with
    ``shapes``, batched on axis 0 with the wire's shape, one batch size."""
    out, batch, F = [], None, program.functor
    for i, (x, wire) in enumerate(zip(xs, wires, strict=True)):
        if not hasattr(x, "shape") or not hasattr(x, "dtype"):
            x = np.asarray(x)
        x = native(x)  # JAX refuses big-endian arrays (same values)
        name = _Named(what, i, program)
        problem = F.check_dtype(x.dtype, wire, name)
        if problem is not None:
            raise SemanticsError(problem + ".")
        expected = (len(wire.shape) + 1, wire.shape)  # ndim, example shape
        if shapes and (x.ndim, tuple(x.shape[1:])) != expected:
            raise ShapeError(
                f"{name} is typed {wire!r}: expected a batch of "
                f"shape (batch, {', '.join(map(str, wire.shape))}), got "
                f"{tuple(x.shape)}. Fix: put examples on axis 0 and match the "
                f"feature shape {wire.shape}."
            )
        elif shapes and batch is not None and x.shape[0] != batch:
            raise ShapeError(
                f"{name} has batch size {x.shape[0]}, but {what} 0 has "
                f"{batch}. Fix: feed batches of one size."
            )
        if not isinstance(x, jax.core.Tracer):
            problem = F.check_values(x, wire, name)
            if problem is not None:
                raise SemanticsError(problem + ".")
        batch = x.shape[0] if shapes else None
        out.append(x)
    return tuple(out)


class _Named:
    """``"{what} {i} of {program!r}"``, spelled only when a message uses it:
    the repr of a program lists its wires, so spelling it for each of many
    inputs would cost time quadratic in their number."""

    def __init__(self, what: str, i: int, program: Any):
        self.what, self.i, self.program = what, i, program

    def __str__(self) -> str:
        return f"{self.what} {self.i} of {self.program!r}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)
