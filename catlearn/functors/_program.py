"""A compiled diagram: a flat, topologically ordered list of steps over slots.

Compiling walks the diagram's layers once. Structural boxes (identity, swap,
copy, discard) become slot bookkeeping, not steps: a copy makes two wires read
one slot, a discard leaves a slot unread. Running the program is one straight
pass over the steps, with no recursion over the diagram.

The reverse pass is the lens composite of the steps' rules, run backwards over
the residuals the forward pass kept. Cotangents of a slot read twice are added
with the functor's cotangent monoid (that is ``R[copy]``), and a slot nobody
read gets the zero cotangent (``R[discard]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from .._errors import ParamError, ShapeError
from ..diagrams import Diagram, Param, Wire
from ._rows import LayerRule, Rows, enter, input_groups, pack, pack_inputs, read, unpack
from ._rule import Rule
from ._rule_checks import (
    check_arrays,
    check_cotangents,
    check_output_cotangents,
    check_outputs,
    check_pair,
)
from ._sizes import check_init_memory, native

if TYPE_CHECKING:
    from ._functor import Functor


@dataclass(frozen=True)
class Slot:
    """A value in the program: which wire type it has and whether it carries
    the batch axis (inputs and what depends on them) or not (parameters)."""

    wire: Wire
    batched: bool


@dataclass(frozen=True)
class Step:
    """Apply ``rule`` of ``box`` to the values in slots ``ins``; write ``outs``."""

    box: Any
    rule: Rule
    ins: tuple[int, ...]
    outs: tuple[int, ...]


class Program:
    """A diagram compiled by a functor. Call it as ``prog(params, *xs)``.

    Inputs are batched along axis 0 (any batch size); parameters are not.
    ``prog.init(key)`` draws parameters, ``prog.reverse(params, xs, dys)`` is the
    reverse derivative ``R[F(diagram)]``, and ``prog.lens(params, xs)`` gives the
    forward value with its backward map (the lens ``F(diagram)``).
    """

    def __init__(
        self,
        functor: Functor,
        diagram: Diagram,
        slots: Sequence[Slot],
        steps: Sequence[Step],
        n_inputs: int,
        params: dict[str, tuple[Param, int]],
        outputs: Sequence[int],
    ):
        self.functor, self.diagram = functor, diagram
        self.slots, self.steps = tuple(slots), tuple(steps)
        self.n_inputs, self._params, self.outputs = n_inputs, params, tuple(outputs)
        self.dom: tuple[Wire, ...] = tuple(diagram.dom.inside)
        self.cod: tuple[Wire, ...] = tuple(diagram.cod.inside)
        # How many times the forward pass was built: once per JAX trace under
        # jit (so repeat calls at one shape add nothing), once per eager run.
        self.trace_count = 0
        # (name, wire, array shape) per parameter: what each call's checks read
        self._param_specs = tuple(
            (name, box.cod.inside[0], tuple(functor.param_shape(box)))
            for name, (box, _) in params.items()
        )
        self._in_groups = input_groups(self.steps, n_inputs)
        self._call = jax.jit(self._packed)
        self._reverse = jax.jit(self._reverse_impl)

    # -- parameters -------------------------------------------------------------
    @property
    def param_types(self) -> dict[str, Wire]:
        """``{name: wire}`` of the parameters, in the diagram's stable order."""
        return {name: box.cod.inside[0] for name, (box, _) in self._params.items()}

    @property
    def param_slots(self) -> dict[str, tuple[Param, int]]:
        """``{name: (Param box, slot it is read from)}``, in a stable order."""
        return dict(self._params)

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """``{name: shape}`` of the parameter arrays this semantics takes: the
        wire's shape, except where a relaxation carries more numbers than bits
        (a 16-gate softmax table has 16 logits per gate under ``Smooth``)."""
        return {
            name: self.functor.param_shape(box)
            for name, (box, _) in self._params.items()
        }

    def init(self, key: jax.Array) -> dict[str, jax.Array]:
        """Draw every parameter, deterministically from ``key``: the i-th
        parameter uses ``fold_in(key, i)``. Parameters that would not fit in
        the device's free memory raise ``ShapeError`` before any is drawn."""
        check_init_memory(self, key)
        return {
            name: self.functor.init_param(box, jax.random.fold_in(key, i))
            for i, (name, (box, _)) in enumerate(self._params.items())
        }

    # -- forward ----------------------------------------------------------------
    def __call__(self, params: dict[str, Any], *xs: Any, key: Any = None) -> Any:
        """Run the program (jitted). One output wire gives an array, several a
        tuple. ``key`` feeds stochastic generators (e.g. Gumbel-noised gates in
        training); without it they run in their deterministic evaluation mode.

        Bad input fails here, before JAX sees it: a wrong number of inputs, a
        wrong shape or dtype (``ShapeError``, ``SemanticsError``), values a
        semantics cannot read (``SemanticsError``: e.g. a 2 fed to a bit), a
        missing or mis-shaped parameter (``ParamError``). Extra entries in
        ``params`` are ignored, so one dict can serve several sub-diagrams."""
        packed = pack_inputs(self._check_inputs(xs), self._in_groups)
        params = self.check_params(params, encode=False)
        ys = unpack(self._call(params, *packed, key=key))
        return ys[0] if len(ys) == 1 else tuple(ys)

    def apply(self, params: dict[str, Any], *xs: Any, key: Any = None) -> Any:
        """The same as calling the program, without the ``jax.jit`` wrapper."""
        ys, _, _, _ = self._forward(params, xs, key)
        return ys[0] if len(ys) == 1 else tuple(ys)

    @property
    def stochastic(self) -> bool:
        """Whether a step draws random numbers when given a ``key``."""
        return any(
            st.rule.keyed and self.functor.is_stochastic(st.box) for st in self.steps
        )

    def _forward(
        self, params: dict[str, Any], xs: Sequence[Any], key: Any = None
    ) -> tuple[list[Any], list[Any], list[Any], int | None]:
        env, residuals, batch = self._run(params, xs, key, packed=False)
        return [self._decode(s, env[s], batch) for s in self.outputs], residuals, \
            env, batch

    def _packed(self, params: dict[str, Any], *xs: Any, key: Any = None) -> Any:
        """The outputs with a layer's kept stacked (``_rows.pack``): what the
        jitted call returns, cut into one array per wire after it."""
        env, _, batch = self._run(params, xs, key, packed=True)
        return pack(env, self.outputs, lambda s, v: self._decode(s, v, batch))

    def _decode(self, slot: int, value: Any, batch: int | None) -> Any:
        wire, batched = self.slots[slot].wire, self.slots[slot].batched
        return self.functor.decode_output(value, wire, batch, batched)

    def _run(
        self, params: dict[str, Any], xs: Sequence[Any], key: Any, packed: bool
    ) -> tuple[list[Any], list[Any], int | None]:
        self.trace_count += 1
        F = self.functor
        env: list[Any] = [None] * len(self.slots)
        if packed:  # checked before jax.jit; layers' columns stacked
            batch = enter(env, xs, lambda i, x: F.encode_input(x, self.dom[i]))
        else:
            raw = self._check_inputs(xs)
            batch = raw[0].shape[0] if raw else None
            for i, (x, wire) in enumerate(zip(raw, self.dom, strict=True)):
                env[i] = F.encode_input(x, wire)
        for name, value in self.check_params(params).items():
            env[self._params[name][1]] = value
        residuals = []
        for i, step in enumerate(self.steps):
            layer = isinstance(step.rule, LayerRule)  # reads parts itself
            ins = [env[s] if layer else read(env, s) for s in step.ins]
            kw = {}  # a keyed rule gets its own key (None: deterministic)
            if step.rule.keyed:
                kw["key"] = None if key is None else jax.random.fold_in(key, i)
            ys, res = check_pair(step.rule.forward(step.box, *ins, **kw), step, F)
            if isinstance(ys, Rows):  # a layer's outputs, stacked
                first = replace(step, outs=step.outs[: len(ys.stacked)])
                check_outputs(F, first, ys.first(), self.slots, batch)
                ys = ys.lazy() if packed else ys.parts()
            else:
                ys = check_outputs(F, step, ys, self.slots, batch)
            for s, y in zip(step.outs, ys, strict=True):
                env[s] = y
            residuals.append(res)
        return env, residuals, batch

    # -- reverse ----------------------------------------------------------------
    def lens(
        self, params: dict[str, Any], xs: Sequence[Any], key: Any = None
    ) -> tuple[Any, Callable[[Any], tuple[dict[str, Any], tuple[Any, ...]]]]:
        """The lens ``F(diagram)`` at ``(params, xs)``: the forward value and the
        backward map ``dys -> (dparams, dxs)``, which reuses the forward
        residuals."""
        xs = _as_tuple(xs)
        outs, residuals, env, batch = self._forward(params, xs, key)
        value = outs[0] if len(outs) == 1 else tuple(outs)

        def backward(dys: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
            dys = _as_tuple(dys)
            self._check_cotangents(dys, outs)
            dys = self._check_cotangent_values(dys)
            return self._backward(env, residuals, dys, batch)

        return value, backward

    def votes(self, params: dict[str, Any], xs: Any, dys: Any) -> dict[str, Any]:
        """Per parameter entry, over how many examples of the batch its reverse
        derivative is non-zero: ``R[f]`` taken example by example and counted,
        instead of summed (on Z2 a sum cancels in pairs). Used by Reverse
        Derivative Ascent; the functor says how to count (``count_votes``)."""
        xs, dys = _as_tuple(xs), _as_tuple(dys)
        outs, residuals, env, batch = self._forward(params, xs)
        self._check_cotangents(dys, outs)
        dys = self._check_cotangent_values(dys)
        return self._backward(env, residuals, dys, batch, per_example=True)[0]

    def reverse(
        self, params: dict[str, Any], xs: Any, dys: Any, key: Any = None
    ) -> tuple[dict[str, Any], tuple[Any, ...]]:
        """The reverse derivative: ``(dparams, dxs) = R[F(d)]((params, xs), dys)``."""
        xs = self._check_inputs(_as_tuple(xs))
        dys = self._check_cotangent_values(_as_tuple(dys))
        return self._reverse(self.check_params(params, encode=False), xs, dys, key)

    def _reverse_impl(
        self,
        params: dict[str, Any],
        xs: tuple[Any, ...],
        dys: tuple[Any, ...],
        key: Any = None,
    ) -> tuple[dict[str, Any], tuple[Any, ...]]:
        _, backward = self.lens(params, xs, key)
        return backward(dys)

    def _backward(
        self,
        env: list[Any],
        residuals: list[Any],
        dys: tuple[Any, ...],
        batch: int | None,
        per_example: bool = False,
    ) -> tuple[dict[str, Any], tuple[Any, ...]]:
        F, slots = self.functor, self.slots
        ct: list[Any] = [None] * len(slots)

        def accumulate(slot: int, d: Any, from_batched: bool) -> None:
            if d is None:
                return
            if from_batched and not slots[slot].batched and not per_example:
                d = F.sum_batch(d, env[slot])  # R of copying to every example
            ct[slot] = d if ct[slot] is None else F.add(ct[slot], d)

        for slot, dy in zip(self.outputs, dys, strict=True):
            wire, batched = slots[slot].wire, slots[slot].batched
            accumulate(slot, F.encode_cotangent(dy, wire, batched), batch is not None)
        for step, res in zip(reversed(self.steps), reversed(residuals), strict=True):
            if all(ct[s] is None for s in step.outs):
                continue  # R[f](x, 0) = 0: nothing flows back through this step
            d_outs = [
                F.zeros_like(env[s]) if ct[s] is None else ct[s] for s in step.outs
            ]
            d_ins = step.rule.reverse(step.box, res, *d_outs)
            d_ins = check_cotangents(F, step, d_ins, env, slots, batch)
            batched = any(slots[s].batched for s in step.ins)
            for s, d in zip(step.ins, d_ins, strict=True):
                accumulate(s, d, batched)

        def final(slot: int) -> Any:
            return F.zeros_like(env[slot]) if ct[slot] is None else ct[slot]

        if per_example:  # one cotangent per example: the functor counts them
            return {
                n: F.count_votes(final(s)) for n, (_, s) in self._params.items()
            }, ()
        dparams = {
            name: F.decode_param_cotangent(final(slot), slots[slot].wire)
            for name, (_, slot) in self._params.items()
        }
        dxs = tuple(
            F.decode_cotangent(final(i), slots[i].wire, batch)
            for i in range(self.n_inputs)
        )
        return dparams, dxs

    # -- validation -------------------------------------------------------------
    def _check_cotangents(self, dys: tuple[Any, ...], outs: Sequence[Any]) -> None:
        check_output_cotangents(self, dys, outs)

    def check_params(self, params: Any, encode: bool = True) -> dict[str, Any]:
        """``params`` checked (a ``ParamError`` names a missing or bad one) and
        restricted to this program's names; ``encode``: as the functor holds them."""
        if not isinstance(params, dict):
            raise ParamError(
                f"{self!r} expects a dict of parameters {{name: array}}, got "
                f"{type(params).__name__}. Fix: params = prog.init(key)."
            )
        checked, F = {}, self.functor
        for name, wire, expected in self._param_specs:
            if name not in params:
                have = sorted(map(str, params))
                extra = sorted(str(k) for k in params if k not in self._params)
                hint = f" (unexpected: {extra})" if extra else ""
                raise ParamError(
                    f"parameter {name!r} ({wire!r}) is missing from the params "
                    f"dict, which has {have}{hint}. Fix: pass every name in "
                    f"prog.param_types, e.g. from prog.init(key)."
                )
            value = params[name]
            if not hasattr(value, "shape") or not hasattr(value, "dtype"):
                value = np.asarray(value)
            value = native(value)
            shape = tuple(value.shape)
            if shape != expected:
                raise ParamError(
                    f"parameter {name!r} has shape {shape}, expected {expected} "
                    f"for {wire!r} under {F!r}. Fix: reinitialise with "
                    f"prog.init(key) or reshape the array."
                )
            what = f"parameter {name!r} of {self!r}"
            problem = F.check_param_dtype(value.dtype, wire, what)
            if problem is None and not isinstance(value, jax.core.Tracer):
                problem = F.check_values(value, wire, what)
            if problem is not None:
                raise ParamError(problem + ".")
            checked[name] = F.encode_param(value, wire) if encode else value
        return checked

    def _check_inputs(self, xs: Sequence[Any]) -> tuple[Any, ...]:
        if len(xs) != len(self.dom):
            raise ShapeError(
                f"{self!r} takes {len(self.dom)} input(s) {list(self.dom)}, got "
                f"{len(xs)}. Fix: call prog(params, *xs) with one batch per wire."
            )
        return self._check_arrays(tuple(xs), self.dom, "input", shapes=True)

    def _check_cotangent_values(self, dys: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(dys) != len(self.cod):
            raise ShapeError(
                f"reverse of {self!r}: got {len(dys)} output cotangent(s), expected "
                f"{len(self.cod)} (one per output wire {list(self.cod)}). Fix: "
                "pass dys as a tuple with one array per output wire."
            )
        return self._check_arrays(dys, self.cod, "output cotangent", shapes=False)

    def _check_arrays(
        self, xs: tuple[Any, ...], wires: Sequence[Wire], what: str, shapes: bool
    ) -> tuple[Any, ...]:
        return check_arrays(self, xs, wires, what, shapes)

    def module(self, params: dict[str, Any]) -> Any:
        """This program with ``params`` as an ``equinox.Module``
        (:class:`~catlearn.functors.ProgramModule`): its array leaves are the
        parameters, so equinox and optax code can train it."""
        from ._eqx import module

        return module(self, params)

    # -- printing ---------------------------------------------------------------
    def __repr__(self) -> str:
        dom, cod = list(self.dom), list(self.cod)
        return f"{self.functor!r}(<diagram {dom} -> {cod}, {len(self.steps)} steps>)"

    def describe(self) -> str:
        """A listing of the steps: ``s3, s4 = matmul(s0, s2)``."""
        lines = [repr(self)]
        for name, (_, slot) in self._params.items():
            lines.append(f"  s{slot} = param {name!r}")
        for st in self.steps:
            outs = ", ".join(f"s{s}" for s in st.outs)
            ins = ", ".join(f"s{s}" for s in st.ins)
            lines.append(f"  {outs} = {st.box.name}({ins})")
        lines.append("  return " + ", ".join(f"s{s}" for s in self.outputs))
        return "\n".join(lines)


def _as_tuple(v: Any) -> tuple[Any, ...]:
    return tuple(v) if isinstance(v, tuple | list) else (v,)
