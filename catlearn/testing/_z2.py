"""Derivatives over Z2 taken from a program's own reverse pass, the brute-force
Z2 derivative, and the syntactic condition under which the two agree.

Points and tangents are pairs ``a = (params, xs)`` (parameters are inputs:
Para). Read as a vector of bits, a Boolean program is a polynomial map ``f``
over Z2 and its reverse pass is ``R[f](a, b) = J(a)^T b``, with ``J(a)`` the
matrix of *formal* partial derivatives of the circuit (``R[x AND x] = 0``).

**D[f] is the transpose of R[f].** ``R[f](a, ·)`` is Z2-linear (RD.2), so it is
determined by the basis cotangents: ``J(a)_ji = R[f](a, e_j)_i``, and

    D[f](a, v)_j = parity(v · R[f](a, e_j))      (= π1 R[R[f]]((a, 0), v))

because the reverse derivative of the linear map ``b ↦ J(a)^T b`` is its
transpose. This is exact for every circuit, and built from ``Program.reverse``
alone, so the axioms test the reverse pass.

**D[D[f]] is the Z2 derivative of the function D[f].** Values of ``R[f]``
cannot show the syntax of the circuit ``R[f]`` (``x AND x`` and ``x`` agree
everywhere), so ``D[D[f]]`` differentiates the unique multilinear polynomial
(algebraic normal form) of ``g(a, u) = D[f](a, u)``. That polynomial is affine
in each variable separately, so its partial derivative along coordinate ``c``
is the finite difference ``g(a ⊕ e_c, u) ⊕ g(a, u)``, exactly, and

    D[D[f]]((a, u), (v, w)) = Σ_c v_c (g(a ⊕ e_c, u) ⊕ g(a, u)) ⊕ D[f](a, w)

(the sum over single coordinates, not ``g(a ⊕ v) ⊕ g(a)``, which is not linear
in ``v``; the last term is the exact derivative of ``g`` in ``u``, where it is
linear). RD.6 holds for every circuit. This ``D[D[f]]`` equals the syntactic one
(the formal derivative of the circuit ``R[f]``) when the formal partials in
``J(a)`` are multilinear polynomials, which :func:`is_multilinear` certifies
from the circuit's syntax: no product gate (AND, OR, a LUT) multiplies two
values that depend on a common variable. There formal partial derivatives
commute and RD.7 holds; elsewhere it can fail for this ``D[D[f]]`` without
any rule being wrong (``x ∧ x ∧ y``: ``∂_y ∂_x = 0`` but ``∂_x ∂_y = 1``).

On the same multilinear circuits the formal derivative is the brute-force one,
bit ``c`` of ``R[f](a, dy)`` being ``parity((f(a) ⊕ f(a ⊕ e_c)) ∧ dy)``:
:func:`reverse_matches_brute_force` checks it, parameters included (a flipped
parameter bit changes every example; the parity runs over the batch).

>>> import jax.numpy as jnp, catlearn as cl
>>> prog = cl.Boolean()(cl.logic.AND)
>>> xs = (jnp.array([[True]]), jnp.array([[False]]))
>>> D, DD = z2_derivatives(prog, {}, xs)
>>> D(({}, xs), ({}, (jnp.array([[True]]), jnp.array([[True]]))))  # b da + a db
(Array([[ True]], dtype=bool),)
>>> e1, e2 = (jnp.array([[True]]), jnp.array([[False]])), (xs[1], xs[0])
>>> zero = (xs[1], xs[1])
>>> DD((({}, xs), ({}, e1)), (({}, e2), ({}, zero)))  # ∂_b ∂_a (a b) = 1
(Array([[ True]], dtype=bool),)
>>> square = cl.Copy(cl.bits(1)) >> cl.logic.AND       # x AND x
>>> is_multilinear(prog), is_multilinear(cl.Boolean()(square))
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..diagrams import LutLayerSpec, SelectSpec, pooled, tiled
from ..functors import Program, unroll
from ._axioms import reverse, run
from ._check import TOL, Tolerance, close, per_program, restrict

Params = dict[str, Any]
Derivative = Callable[[Any, Any], Any]


class Layout:
    """The bits of a pytree of bool arrays as one flat vector, and back.

    ``like`` gives the structure and shapes (arrays or ``jax.ShapeDtypeStruct``
    leaves); ``flat(tree)`` concatenates the leaves, ``tree(vector)`` splits a
    vector of ``size`` bits back into that structure."""

    def __init__(self, like: Any):
        leaves, self.treedef = jax.tree.flatten(like)
        self.shapes = [tuple(x.shape) for x in leaves]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.size = sum(self.sizes)

    def flat(self, tree: Any) -> jax.Array:
        leaves = [jnp.ravel(jnp.asarray(x, jnp.bool_)) for x in jax.tree.leaves(tree)]
        return jnp.concatenate(leaves) if leaves else jnp.zeros((0,), jnp.bool_)

    def tree(self, vector: jax.Array) -> Any:
        cuts = np.cumsum(self.sizes)[:-1].tolist()
        parts = jnp.split(vector, cuts) if self.sizes else []
        leaves = [p.reshape(s) for p, s in zip(parts, self.shapes, strict=True)]
        return jax.tree.unflatten(self.treedef, leaves)


def _parity(x: jax.Array, axis: int = -1) -> jax.Array:
    return jnp.sum(x.astype(jnp.int32), axis=axis) % 2 == 1


def _matvec(m: jax.Array, v: jax.Array) -> jax.Array:
    """``m v`` over Z2."""
    return _parity(m & v)


def _layouts(program: Program, params: Params, xs: Any) -> tuple[Any, Layout, Layout]:
    a = (restrict(params, program), tuple(xs))
    out = jax.eval_shape(lambda a: run(program, *a), a)
    return a, Layout(a), Layout(out)


@per_program
def z2_derivatives(program: Program, params: Params, xs: Any
                   ) -> tuple[Derivative, Derivative]:
    """``(D[f], D[D[f]])`` of a Boolean program at points shaped like
    ``a = (params, xs)``: ``D[f]`` the transpose of ``program.reverse`` probed
    with basis cotangents, ``D[D[f]]`` the Z2 derivative of the function
    ``D[f]`` (see the module docstring: both exact as such; ``D[D[f]]`` is the
    circuit's own second derivative, hence symmetric, where
    :func:`is_multilinear` holds). Tangents are shaped like points. Both are
    jit- and vmap-able; outputs are tuples of bool arrays shaped like the
    program's outputs. Memoised per program and shape, so RD.6 and RD.7
    compile them once."""
    _, dom, cod = _layouts(program, params, xs)

    def flat(tree: Any) -> jax.Array:  # a point or a tangent, as a bit vector
        return dom.flat((restrict(tree[0], program), tuple(tree[1])))

    basis_out = np.eye(cod.size, dtype=np.bool_)
    # 0, then every basis vector e_c: the points a and a ⊕ e_c
    flips = np.eye(dom.size + 1, dom.size, -1, dtype=np.bool_)

    def jacobian(fa: jax.Array) -> jax.Array:
        """``J(a)``, shape ``(outputs, inputs)``: row ``j`` is ``R[f](a, e_j)``."""
        p, x = dom.tree(fa)
        if not cod.size:
            return jnp.zeros((0, dom.size), jnp.bool_)
        return jax.vmap(lambda e: dom.flat(reverse(program, p, x, cod.tree(e))))(
            basis_out)

    def D(a: Any, v: Any) -> Any:
        return cod.tree(_matvec(jacobian(flat(a)), flat(v)))

    def DD(x: Any, t: Any) -> Any:
        (a, u), (v, w) = x, t
        fa, fu, fv = flat(a), flat(u), flat(v)
        Js = jax.vmap(jacobian)(fa[None, :] ^ flips)  # J(a), then J(a ⊕ e_c)
        J = Js[0]
        partials = _matvec(Js[1:] ^ J[None], fu)  # (c, j): ∂_c of D[f](·, u) at a
        return cod.tree(_parity(fv[:, None] & partials, axis=0) ^ _matvec(J, flat(w)))

    return D, DD


def reverse_matches_brute_force(program: Program, params: Params, xs: Any,
                                dys: Any, *, tol: Tolerance = TOL) -> None:
    """``program.reverse`` equals the brute-force Z2 derivative: bit ``c`` of
    ``(dparams, dxs)`` is ``parity((f(a) ⊕ f(a ⊕ e_c)) ∧ dy)`` over every
    output bit of the batch, ``c`` ranging over parameter and input bits. The
    oracle of ``Boolean`` on circuits where :func:`is_multilinear` holds
    (elsewhere the circuit's derivative differs from the function's).

    Examples do not interact, so flipping an input bit of one example changes
    only that example's outputs: every input flip is one example of a single
    large batch (one forward pass), and each parameter flip one more forward
    pass at the original shapes (compiled once)."""
    p = {k: np.asarray(v, bool) for k, v in restrict(params, program).items()}
    xs = tuple(np.asarray(x, bool) for x in xs)
    dys = tuple(np.asarray(d, bool) for d in dys)
    base = _outputs(program, p, xs)
    outs_shape: tuple[int, ...] = (xs[0].shape[0],) if xs else ()

    def flips_of(outs: list[np.ndarray]) -> np.ndarray:
        """Per example, ``parity((f(a) ⊕ f(a')) ∧ dy)`` over its output bits."""
        changed = [((o ^ b) & d).reshape(*outs_shape, -1)  # bits on the last axis
                   for o, b, d in zip(outs, base, dys, strict=True)]
        if not changed:
            return np.zeros(outs_shape, bool)
        return np.logical_xor.reduce(np.concatenate(changed, axis=-1), axis=-1)

    dparams = {}
    for name, value in p.items():
        flat, bits_ = value.ravel(), np.zeros(value.size, bool)
        for c in range(value.size):
            q = dict(p)
            q[name] = np.where(np.arange(value.size) == c, ~flat, flat).reshape(
                value.shape)
            bits_[c] = np.logical_xor.reduce(
                np.atleast_1d(flips_of(_outputs(program, q, xs))))
        dparams[name] = bits_.reshape(value.shape)
    dxs = tuple(np.zeros(x.shape, bool) for x in xs)
    if xs and xs[0].shape[0]:
        batch = xs[0].shape[0]
        cuts = [(i, j) for i, x in enumerate(xs) for j in range(int(np.prod(
            x.shape[1:])))]
        big = []  # example e with bit (i, j) flipped, for every (i, j), e
        for i, x in enumerate(xs):
            rows = np.repeat(x.reshape(1, batch, -1), len(cuts), axis=0)
            for k, (wire, j) in enumerate(cuts):
                if wire == i:
                    rows[k, :, j] = ~rows[k, :, j]
            big.append(rows.reshape(len(cuts) * batch, *x.shape[1:]))
        outs = _outputs(program, p, tuple(big))
        outs = [o.reshape(len(cuts), batch, *o.shape[1:]) for o in outs]
        outs_shape = (len(cuts), batch)
        per = flips_of(outs)  # (flips, batch)
        for k, (i, j) in enumerate(cuts):
            dxs[i].reshape(batch, -1)[:, j] = per[k]
    close("reverse = brute-force Z2 derivative parity((f(a) ⊕ f(a ⊕ e_c)) ∧ dy)",
          {"program": program.diagram}, reverse(program, p, xs, dys),
          (dparams, dxs), tol=tol)


def _outputs(program: Program, params: Params, xs: Any) -> list[np.ndarray]:
    return [np.asarray(y, bool) for y in run(program, params, xs)]


# -- the syntactic condition: no repeated variable inside a product ---------------
Support = list[frozenset[tuple[int, int]]]  # per bit of a slot: the variables


def _product(*factors: frozenset[tuple[int, int]]) -> frozenset[tuple[int, int]] | None:
    """The variables of a product, or ``None`` if two factors share one."""
    seen: frozenset[tuple[int, int]] = frozenset()
    for f in factors:
        if seen & f:
            return None
        seen |= f
    return seen


def _gates(tables: Support, *ins: Support) -> Support | None:
    """Variables of LUT outputs ``Σ_r t_r m_r(a, b, ...)``: each table entry
    multiplies every input, so none may share a variable with another or
    with the table."""
    out, size = [], 1 << len(ins)
    for g, xs in enumerate(zip(*ins, strict=True)):
        t = frozenset().union(*tables[size * g : size * (g + 1)])
        v = _product(t, *xs)
        if v is None:
            return None
        out.append(v)
    return out


def _products(box: Any, ins: list[Support]) -> Support | None:
    """AND (``a b``) and OR (``a + b + a b``): a product of the two inputs."""
    out = [_product(x, y) for x, y in zip(*ins, strict=True)]
    return None if any(v is None for v in out) else out  # type: ignore[return-value]


def _lut_layer_support(box: Any, ins: list[Support]) -> Support | None:
    x = ins[1]
    wiring = LutLayerSpec.of(box).wiring
    return _gates(ins[0], *([x[i] for i in side] for side in wiring))


def _select_support(box: Any, ins: list[Support]) -> Support | None:
    """Output ``s`` is ``sum_j x_j prod_b [bit_b = j_b]``: a product of its
    index bits and the inputs, which may share no variable."""
    spec, (index, x) = SelectSpec.of(box), ins
    every = frozenset().union(*x)
    out = []
    for s in range(spec.n_sel):
        v = _product(frozenset().union(*index[s * spec.w : (s + 1) * spec.w]), every)
        if v is None:
            return None
        out.append(v)
    return out


SupportRule = Callable[[Any, list[Support]], Support | None]

# Per generator: the variables of its output bits from those of its inputs, or
# None when it multiplies two values sharing a variable (or is no polynomial).
SUPPORT_RULES: dict[str, SupportRule] = {
    "AND": _products,
    "OR": _products,
    "XOR": lambda box, ins: [x | y for x, y in zip(*ins, strict=True)],  # a sum
    "NOT": lambda box, ins: ins[0],  # 1 + a
    "ZERO": lambda box, ins: [frozenset()],
    "ONE": lambda box, ins: [frozenset()],
    "lut": lambda box, ins: _gates(*ins),
    "lut_layer": _lut_layer_support,
    "group_sum": lambda box, ins: None,  # integer counts: not a Z2 polynomial
    "select": _select_support,
    "reshape": lambda box, ins: ins[0],
    "tile": lambda box, ins: tiled(box, ins[0]),  # copies: a linear map
    "or_pool": lambda box, ins: _all([_product(*w) for w in pooled(box, ins[0])]),
    "sort": lambda box, ins: _all([_product(*ins[0])] * len(ins[0])),  # all inputs
}


def _all(out: list[frozenset[tuple[int, int]] | None]) -> Support | None:
    return None if any(v is None for v in out) else out  # type: ignore[return-value]


def _step_support(box: Any, ins: list[Support]) -> Support | None:
    rule = SUPPORT_RULES.get(box.name)
    if rule is not None:
        return rule(box, ins)
    layers = getattr(box, "layers", None)  # a chain of lut layers (cl.Kernel)
    if layers is not None and getattr(box, "group", None) is None:
        return _chain(layers, ins[:-1], ins[-1])
    # A generator this check does not know is read as a primitive: a
    # multilinear polynomial in its input bits (its algebraic normal form),
    # whose derivative is the brute-force one when no two input bits share a
    # variable; then every output bit may depend on all of them.
    bits_in = [v for wire in ins for v in wire]
    whole = _product(*bits_in)
    return None if whole is None else [whole]


def _chain(layers: Any, tables: list[Support], x: Support) -> Support | None:
    for layer, table in zip(layers, tables, strict=True):
        ia, ib = layer.wiring
        y = _gates(table, [x[i] for i in ia], [x[i] for i in ib])
        if y is None:
            return None
        x = y
    return x


def is_multilinear(program: Program) -> bool:
    """Whether the Boolean circuit's polynomial over Z2 is multilinear by
    construction: no AND, OR or LUT multiplies two values that depend on a
    common variable (an input bit or a parameter bit; a tied parameter is one
    variable). Copies feeding XOR, NOT, different products, or a discard are
    fine. Then the formal derivative is the brute-force one and formal second
    derivatives commute (module docstring). Sufficient, not necessary. A
    generator it does not know is taken as a primitive multilinear polynomial
    of its input bits (none of which may share a variable)."""
    program = unroll(program)  # one step per generator
    written = {s for step in program.steps for s in step.outs}
    support: list[Support | None] = [None] * len(program.slots)
    for i, slot in enumerate(program.slots):
        if i not in written:  # an input or a parameter: fresh variables
            support[i] = [frozenset({(i, j)}) for j in range(slot.wire.size)]
    for step in program.steps:
        ins = [support[s] for s in step.ins]
        out = _step_support(step.box, ins)  # type: ignore[arg-type]
        if out is None:
            return False
        if len(out) == 1 and _unknown(step.box):  # every output bit: all inputs
            for s in step.outs:
                support[s] = out * program.slots[s].wire.size
            continue
        if len(step.outs) != 1:
            return False
        support[step.outs[0]] = out
    return True


KNOWN = tuple(SUPPORT_RULES)  # the generators is_multilinear reads


def _unknown(box: Any) -> bool:
    return box.name not in KNOWN and getattr(box, "layers", None) is None
