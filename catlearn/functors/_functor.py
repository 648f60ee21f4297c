"""Functors: from diagrams (syntax) to programs (semantics).

A functor is an object map (what it makes of wires: value types, parameter
initialisation, the cotangent monoid), a rule table ``{generator name: Rule}``
(``RULES``) and a tuple of compile-time passes ``Program -> Program``
(``PASSES``). Applying it to a diagram compiles the diagram once into a
:class:`Program`, then runs each pass on it (``cl.Kernel``'s fuses LUT layers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
from discopy import markov

from .._errors import MissingRuleError, SemanticsError
from ..diagrams import Diagram, Param, Wire, from_discopy
from ._program import Program, Slot, Step
from ._rule import Rule


def check_rules(rules: Any, where: str) -> dict[str, Rule]:
    """``rules`` as a dict ``{generator name: Rule}``, or a ``SemanticsError``
    naming the bad entry (``None``: no rules)."""
    fix = "Fix: F.extend({'name': cl.Rule(forward, reverse)})"
    if rules is None:
        return {}
    if not isinstance(rules, Mapping):
        raise SemanticsError(
            f"{where}: rules must be a dict {{generator name: cl.Rule}}, got a "
            f"{type(rules).__name__} ({_short(rules)}). {fix}."
        )
    for key, value in rules.items():
        if not isinstance(key, str):
            raise SemanticsError(
                f"{where}: the rule key {key!r} is a {type(key).__name__}, but "
                "rules are keyed by the generator's name, a str (the box's "
                f"name). {fix}, with the box's name as the key."
            )
        if not isinstance(value, Rule):
            raise SemanticsError(
                f"{where}: the rule for {key!r} is a {type(value).__name__} "
                f"({_short(value)}), not a cl.Rule. A rule pairs the forward map "
                "with its reverse derivative. Fix: F.extend({"
                f"{key!r}: cl.Rule(forward, reverse)}}) with forward(box, *xs) -> "
                "(ys, residuals) and reverse(box, residuals, *dys) -> dxs."
            )
        for part in ("forward", "reverse"):
            if not callable(getattr(value, part)):
                raise SemanticsError(
                    f"{where}: the rule for {key!r} has a {part} that is a "
                    f"{type(getattr(value, part)).__name__}, not a function. Fix: "
                    f"cl.Rule(forward, reverse) with two functions."
                )
    return dict(rules)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Functor:
    """Base class of catlearn's semantics. Subclasses set ``RULES`` (the table of
    generators), ``PASSES`` (rewrites of the compiled program) and the
    wire-level hooks, and list their constructor options in ``_options()``
    (which drives ``extend``, ``==``, ``hash`` and ``repr``); users extend a
    functor with ``F.extend({"name": Rule(forward, reverse)})``.
    """

    RULES: Mapping[str, Rule] = {}
    PASSES: tuple[Callable[[Program], Program], ...] = ()
    KINDS: tuple[str, ...] = ("real", "bits")
    # numpy dtype kinds an input or parameter array may have: bool, signed and
    # unsigned ints, floats (never strings, objects or complex numbers)
    DTYPE_KINDS: str = "biuf"

    def __init__(self, rules: Mapping[str, Rule] | None = None):
        where = f"{type(self).__name__}(rules=...)"
        self.rules: dict[str, Rule] = {**self.RULES, **check_rules(rules, where)}

    def extend(self, rules: Mapping[str, Rule]) -> Functor:
        """A new functor of the same kind and options with extra (or replaced)
        rules: a dict ``{generator name: cl.Rule(forward, reverse)}``, checked
        here."""
        rules = check_rules(rules, f"{self!r}.extend")
        return type(self)({**self._extra_rules(), **rules}, **self._options())

    def _options(self) -> dict[str, Any]:
        """The keyword arguments besides ``rules`` that build this functor
        again, those not at their default (``{}`` here)."""
        return {}

    def _extra_rules(self) -> dict[str, Rule]:
        return {k: v for k, v in self.rules.items() if self.RULES.get(k) is not v}

    def _name(self) -> str:
        """The name ``repr`` calls the functor by."""
        return type(self).__name__

    # -- compile ----------------------------------------------------------------
    def __call__(self, diagram: Any) -> Program:
        """Compile ``diagram`` into a :class:`Program` (one pass over its
        layers), then rewrite it with each of ``PASSES`` in turn."""
        program = compile_diagram(self, from_discopy(diagram))
        for rewrite in self.PASSES:
            program = rewrite(program)
        return program

    def check_wire(self, wire: Wire, where: str) -> None:
        """Raise ``SemanticsError`` if this functor has no meaning for ``wire``."""
        if wire.kind not in self.KINDS:
            raise SemanticsError(
                f"{self!r} cannot interpret the {wire.kind} wire {wire!r} of "
                f"{where}: it interprets {self.KINDS} wires only. Fix: use a "
                f"functor that interprets {wire.kind} wires (a diagram mixing "
                "smooth and logic boxes runs under cl.Smooth(), its logic part "
                "exact with cl.relax(diagram, cl.discretize(diagram, params))), "
                "run the part with bits wires alone, or convert the wire."
            )

    def check_input_wire(self, wire: Wire, where: str) -> None:
        """Raise ``SemanticsError`` if a diagram may not take ``wire`` as an
        input (by default: if this functor has no meaning for it)."""
        self.check_wire(wire, where)

    def check_box(self, box: Any) -> None:
        """Raise ``SemanticsError`` if a wire of generator ``box`` has no meaning."""
        for j, wire in enumerate(box.dom.inside):
            self.check_wire(wire, f"input {j} of box {box.name!r}")
        for j, wire in enumerate(box.cod.inside):
            self.check_wire(wire, f"output {j} of box {box.name!r}")

    # -- values at the API boundary (overridden by each semantics) ---------------
    def check_dtype(self, dtype: Any, wire: Wire, what: str) -> str | None:
        """Why an array of ``dtype`` cannot feed ``wire`` (``None``: it can).
        Metadata only: checked on every call, also under tracing."""
        if getattr(dtype, "kind", "") not in self.DTYPE_KINDS:
            return (
                f"{what} is typed {wire!r}, but the array has dtype {dtype}; "
                f"{self!r} takes bool, int or float arrays. Fix: convert it, e.g. "
                "np.asarray(x, dtype=np.float32)"
            )
        return None

    def check_param_dtype(self, dtype: Any, wire: Wire, what: str) -> str | None:
        """Why a parameter array of ``dtype`` cannot feed ``wire`` (``None``: it
        can). Inputs and parameters may differ: ``Smooth`` reads a bool input
        as a relaxed bit, but a bool parameter is a Boolean truth table it
        would misread. By default the same rule as ``check_dtype``."""
        return self.check_dtype(dtype, wire, what)

    def check_values(self, x: Any, wire: Wire, what: str) -> str | None:
        """Why the values of the concrete array ``x`` cannot feed ``wire``
        (``None``: they can). Never called on traced values."""
        return None

    # Inputs and outputs cross the API as arrays batched on axis 0; inside, each
    # semantics may lay values out its own way (Boolean packs bits into words).
    def encode_input(self, x: Any, wire: Wire) -> Any:
        return jnp.asarray(x)

    def encode_param(self, x: Any, wire: Wire) -> Any:
        return jnp.asarray(x)

    def decode_output(
        self, value: Any, wire: Wire, batch: int | None, batched: bool
    ) -> Any:
        # An output that depends on no input is the same for every example.
        if batch is None or batched:
            return value
        return jnp.broadcast_to(value, (batch, *value.shape))

    def encode_cotangent(self, d: Any, wire: Wire, batched: bool) -> Any:
        return jnp.asarray(d)

    def decode_cotangent(self, d: Any, wire: Wire, batch: int | None) -> Any:
        return d

    def decode_param_cotangent(self, d: Any, wire: Wire) -> Any:
        return d

    def count_votes(self, d: Any) -> Any:
        """Per-example parameter cotangents -> how many examples vote for each
        entry (``Program.votes``). Only semantics that learn by voting define it."""
        raise NotImplementedError(f"{self!r} does not count votes")

    # -- how values are laid out inside a program (checked once per trace) --------
    def value_shape(
        self, wire: Wire, batched: bool, batch: int | None
    ) -> tuple[int | None, ...]:
        """The shape of a value of ``wire`` inside this functor's programs:
        ``(batch, *wire.shape)`` when it carries the batch axis, else the
        wire's shape (``None`` entries: any size)."""
        return (batch, *wire.shape) if batched else tuple(wire.shape)

    def per_example_shape(
        self, like: tuple[int, ...], batch: int
    ) -> tuple[int | None, ...]:
        """The shape of one cotangent per example for an unbatched value of
        shape ``like`` (a rule may return that; the program sums it)."""
        return (batch, *like)

    def cotangent_shape(self, d: Any) -> tuple[int | None, ...] | None:
        """The shape of a cotangent a rule returned (``None``: not an array)."""
        shape = getattr(d, "shape", None)
        return None if shape is None else tuple(shape)

    def init_param(self, box: Param, key: jax.Array) -> jax.Array:
        raise NotImplementedError

    def param_shape(self, box: Param) -> tuple[int, ...]:
        """The shape of the array that holds parameter ``box``: its wire's."""
        return tuple(box.cod.inside[0].shape)

    def recurrent_rule(self, box: Any) -> Rule | None:
        """The rule of a ``recurrent`` box (:func:`cl.nn.recurrent`) if this
        functor reads it natively (``Smooth``: ``lax.scan``); ``None``
        (here): the box is compiled as its cell unrolled in time."""
        return None

    def is_stochastic(self, box: Any) -> bool:
        """Whether a keyed rule of ``box`` draws random numbers given a key."""
        return False

    # -- the cotangent monoid: R[copy] adds, R[discard] is zero --------------------
    def add(self, a: Any, b: Any) -> Any:
        return a + b

    def zeros_like(self, x: Any) -> Any:
        return jnp.zeros_like(x)

    def sum_batch(self, d: Any, like: Any) -> Any:
        """Reduce a per-example cotangent ``d`` of an unbatched value ``like``
        over the batch (a rule may already have reduced it)."""
        return jnp.sum(d, axis=0) if d.ndim > like.ndim else d

    # -- values are transparent ---------------------------------------------------
    def __repr__(self) -> str:
        extra = sorted(self._extra_rules())
        args = [f"rules={extra}"] if extra else []
        args += [f"{k}={v!r}" for k, v in self._options().items()]
        return f"{self._name()}({', '.join(args)})"

    def __eq__(self, other: object) -> bool:
        return (
            type(self) is type(other)
            and self.rules == other.rules  # type: ignore[attr-defined]
            and self._options() == other._options()  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        options = tuple(self._options().items())
        return hash((type(self).__name__, tuple(sorted(self.rules)), options))


def compile_diagram(functor: Functor, diagram: Diagram) -> Program:
    """One pass over the layers: structural boxes rewire slots, parameters get
    one slot per name, every other box becomes a step."""
    slots: list[Slot] = []
    steps: list[Step] = []
    params: dict[str, tuple[Param, int]] = {}

    def new_slot(wire: Wire, batched: bool) -> int:
        slots.append(Slot(wire, batched))
        return len(slots) - 1

    for i, wire in enumerate(diagram.dom.inside):
        functor.check_input_wire(wire, f"input {i} of the diagram")
    current = [new_slot(w, True) for w in diagram.dom.inside]

    def apply(box: Any, ins: list[int]) -> list[int]:
        if isinstance(box, Param):
            wire = box.cod.inside[0]
            functor.check_wire(wire, f"parameter {box.name!r}")
            if box.name not in params:
                params[box.name] = (box, new_slot(wire, False))
            elif params[box.name][0].cod != box.cod:
                from ..diagrams import params as read_params

                read_params(diagram)  # raises the ParamError naming both types
            return [params[box.name][1]]
        if isinstance(box, markov.Copy):  # copy (n >= 2) and discard (n = 0)
            return ins * len(box.cod)
        if isinstance(box, markov.Swap):
            return [ins[1], ins[0]]
        functor.check_box(box)
        rule = functor.rules.get(box.name)
        if box.name == "recurrent" and rule is None:  # a feedback loop in time
            rule = functor.recurrent_rule(box)
            if rule is None:  # no native reading: the cell, steps times
                from ..diagrams import RecurrentSpec

                return run(RecurrentSpec.of(box).unrolled(), ins)
        if rule is None:
            known = ", ".join(sorted(functor.rules)) or "none"
            raise MissingRuleError(
                f"{functor!r} has no rule for the box {box.name!r} "
                f"({box.dom!r} -> {box.cod!r}). It knows: {known}. Fix: add one "
                f"with F = F.extend({{{box.name!r}: cl.Rule(forward, reverse)}})."
            )
        batched = any(slots[s].batched for s in ins)
        outs = [new_slot(w, batched) for w in box.cod.inside]
        steps.append(Step(box, rule, tuple(ins), tuple(outs)))
        return outs

    def run(d: Diagram, current: list[int]) -> list[int]:
        current = list(current)
        for layer in d.inside:
            left, box, *tail = layer
            pieces = [(len(left), box)]
            offset = len(left) + len(box.dom)
            for ty, other in zip(tail[::2], tail[1::2]):  # noqa: B905
                offset += len(ty)
                pieces.append((offset, other))
                offset += len(other.dom)
            done = [(off, len(b.dom), apply(b, current[off : off + len(b.dom)]))
                    for off, b in pieces]  # boxes in order: steps and params keep it
            for off, width, outs in reversed(done):  # in place: linear in the layer
                current[off : off + width] = outs
        return current

    current = run(diagram, current)
    return Program(functor, diagram, slots, steps, len(diagram.dom), params, current)
