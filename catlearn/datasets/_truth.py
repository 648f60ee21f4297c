"""Full truth tables of Boolean functions: every input, in binary counting order.

Row ``i`` of an ``n``-input table holds the binary digits of ``i``, least
significant first: ``X[i, j] = (i >> j) & 1``. So the rows count 0, 1, 2, ...
and column 0 is the fastest-changing bit. Outputs are bool of shape
``(2**n, m)``; multi-bit outputs are least significant bit first too.

>>> import numpy as np
>>> from catlearn.datasets import adder, boolean_cube, multiplexer, parity
>>> boolean_cube(2).astype(int).tolist()
[[0, 0], [1, 0], [0, 1], [1, 1]]
>>> X, Y = parity(3)
>>> X.shape, Y.shape, Y[:, 0].astype(int).tolist()
((8, 3), (8, 1), [0, 1, 1, 0, 1, 0, 0, 1])

An adder's row ``i`` adds ``a = i % 2**n`` and ``b = i // 2**n``:

>>> X, Y = adder(2)
>>> X.shape, Y.shape
((16, 4), (16, 3))
>>> weights = 2 ** np.arange(3)
>>> int(Y[7] @ weights)  # row 7: a = 3, b = 1
4

The 6-input multiplexer: 2 address bits, then 4 data bits.

>>> X, Y = multiplexer(2)
>>> X.shape, Y.shape
((64, 6), (64, 1))
>>> row = X[:, 0] & ~X[:, 1] & X[:, 3]  # address 1 selects data bit 1
>>> bool(Y[row].all())
True
"""

from __future__ import annotations

import numpy as np

from .._errors import DatasetError

MAX_INPUTS = 20
"""The most inputs a full table may have: ``2**20`` rows, about 20 MB of bits."""


def _check_inputs(caller: str, arg: str, value: object, n_inputs: int) -> None:
    if n_inputs > MAX_INPUTS:
        raise DatasetError(
            f"{caller}: {arg}={value!r} asks for a table of {n_inputs} inputs "
            f"(2**{n_inputs} rows); at most {MAX_INPUTS} inputs are supported. "
            f"Fix: choose a smaller {arg}, or sample inputs instead of "
            "enumerating them."
        )


def _check_size(caller: str, arg: str, value: object, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DatasetError(
            f"{caller}: {arg}={value!r} must be a positive int. Fix: e.g. {hint}."
        )
    if value < 1:
        raise DatasetError(
            f"{caller}: {arg}={value!r} must be at least 1. Fix: e.g. {hint}."
        )
    return int(value)


def boolean_cube(n: int) -> np.ndarray:
    """Every ``n``-bit input, bool of shape ``(2**n, n)``: ``X[i, j]`` is bit
    ``j`` of ``i`` (least significant first), for ``1 <= n <= MAX_INPUTS``."""
    n = _check_size("boolean_cube", "n", n, "boolean_cube(4)")
    _check_inputs("boolean_cube", "n", n, n)
    rows = np.arange(2**n, dtype=np.int64)[:, None]
    return ((rows >> np.arange(n)) & 1).astype(bool)


def parity(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n``-bit parity (XOR) table: ``X`` bool ``(2**n, n)``, ``Y`` bool
    ``(2**n, 1)``, true where an odd number of inputs are true."""
    n = _check_size("parity", "n", n, "parity(4)")
    _check_inputs("parity", "n", n, n)
    X = boolean_cube(n)
    return X, np.bitwise_xor.reduce(X, axis=1, keepdims=True)


def adder(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n``-bit ripple-carry adder table.

    ``X`` is bool ``(2**(2n), 2n)``: columns ``0 .. n-1`` are the bits of ``a``
    and columns ``n .. 2n-1`` those of ``b``, each least significant first, so
    row ``i`` adds ``a = i % 2**n`` and ``b = i // 2**n``. ``Y`` is bool
    ``(2**(2n), n+1)``: the bits of ``a + b``, least significant first (the
    last column is the carry out). ``1 <= n <= MAX_INPUTS // 2``.
    """
    n = _check_size("adder", "n", n, "adder(4)")
    _check_inputs("adder", "n", n, 2 * n)
    X = boolean_cube(2 * n)
    a, b = X[:, :n], X[:, n:]
    Y = np.empty((X.shape[0], n + 1), dtype=bool)
    carry = np.zeros(X.shape[0], dtype=bool)
    for j in range(n):  # full adder per bit: sum = a ^ b ^ c, carry = majority
        Y[:, j] = a[:, j] ^ b[:, j] ^ carry
        carry = (a[:, j] & b[:, j]) | (carry & (a[:, j] ^ b[:, j]))
    Y[:, n] = carry
    return X, Y


def multiplexer(k: int) -> tuple[np.ndarray, np.ndarray]:
    """The multiplexer with ``k`` address bits and ``2**k`` data bits
    (``multiplexer(2)`` is the 6-input multiplexer, ``multiplexer(3)`` the
    11-input one).

    ``X`` is bool ``(2**(k + 2**k), k + 2**k)``: columns ``0 .. k-1`` are the
    address, least significant first, and column ``k + d`` is data bit ``d``.
    ``Y`` is bool ``(2**(k + 2**k), 1)``: the data bit the address selects,
    ``Y[i, 0] = X[i, k + address_i]``. ``1 <= k <= 4`` (``MAX_INPUTS``).
    """
    k = _check_size("multiplexer", "k", k, "multiplexer(2)")
    _check_inputs("multiplexer", "k", k, k + 2 ** min(k, MAX_INPUTS))
    X = boolean_cube(k + 2**k)
    address = X[:, :k] @ (1 << np.arange(k, dtype=np.int64))
    Y = X[np.arange(X.shape[0]), k + address]
    return X, Y[:, None]
