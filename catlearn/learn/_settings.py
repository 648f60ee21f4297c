"""Settings as plain data: what an optimiser (or a user's rule) is, written out
so that two processes that built the same thing write the same description.

A checkpoint records its run's optimiser so that resuming with other settings
fails loudly. ``repr`` cannot do that for an optax transformation: it is a
``GradientTransformation(init, update)`` of closures, whose ``repr`` shows only
function addresses (``<function ... at 0x7f...>``), different in every process
and silent about the learning rate. The settings live in the closures' cells
(the learning rate, the betas, a schedule, the inner transformations of a
chain), so :func:`describe` walks those cells and returns JSON data: strings at
the leaves, and a dict with a ``"()"`` entry naming the kind of each node.

>>> import optax
>>> a, b = describe(optax.adam(1e-2)), describe(optax.adam(1e-2))
>>> a == b and "0x" not in str(a)
True
>>> for path, there, here in differences(a, describe(optax.adam(1e-3))):
...     print(path, there, here)
update.update_fns[1].tx.update.step_size -0.01 -0.001

What is read, per kind of object:

- numbers, strings, ``None``: their ``repr`` (exact for floats);
- arrays: dtype, shape and values (a SHA-256 of the bytes past 16 values);
- tuples, lists, dicts, sets: element by element (dicts and sets sorted);
- a function: its module and qualified name, its closure cells by name and
  its default arguments. For a function outside the libraries (your own
  schedule, a lambda) its qualified name without the module (``__main__`` in
  a script, a dotted name once imported), a hash of its compiled code and the
  values of the module globals it names: editing its body or a global it
  reads shows;
- ``functools.partial``, bound methods, wrapped (e.g. jitted) functions: what
  they hold or wrap; dataclasses and named tuples: their fields; other
  objects: their attributes (``vars``).

What cannot be read is marked ``<unseen ...>`` (:func:`unseen` lists it): an
object with neither attributes nor a known kind, a global that is not a
plain value, a structure nested deeper than 32 levels. Never read: the code
of library functions (optax, JAX, numpy, catlearn: the installed version is
the same run to run), and what a function reaches other than through its
closure, defaults and module globals (an attribute of a mutable object, a
file, an environment variable).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

Description = Any  # str, or dict[str, Description] with a "()" entry
LIBRARIES = frozenset(
    {
        "builtins", "catlearn", "chex", "equinox", "functools", "jax", "jaxlib",
        "math", "numpy", "operator", "optax",
    }
)  # fmt: skip
UNSEEN = "<unseen"
_DEPTH = 32
_SHOWN = 16  # array values written out; larger arrays are hashed
_PASS_THROUGH = ("with_extra_args_support",)  # optax wrappers left out of summaries


def describe(obj: Any) -> Description:
    """``obj``'s settings as JSON data, equal in every process that built an
    equal ``obj`` (see the module docstring for what is read)."""
    return _describe(obj, (), 0)


def _node(kind: str, children: dict[str, Description]) -> dict[str, Description]:
    return {"()": kind, **children}


def _name(obj: Any) -> str:
    """``module:qualname`` of a library's function or class; the bare
    qualified name of the user's own (whose module is ``__main__`` in a
    script and a dotted name when imported: the same code either way)."""
    qualname = getattr(obj, "__qualname__", "?")
    return f"{obj.__module__}:{qualname}" if _is_library(obj) else qualname


def _describe(obj: Any, stack: tuple[int, ...], depth: int) -> Description:
    leaf = _leaf(obj)
    if leaf is not None:
        return leaf
    if id(obj) in stack:
        return f"<cycle {type(obj).__qualname__}>"
    if depth > _DEPTH:
        return f"{UNSEEN}: nested deeper than {_DEPTH} levels>"
    stack, depth = (*stack, id(obj)), depth + 1

    def inner(x: Any) -> Description:
        return _describe(x, stack, depth)

    if isinstance(obj, types.FunctionType):
        return _function(obj, inner)
    if isinstance(obj, functools.partial):
        return _node(
            "functools.partial",
            {"func": inner(obj.func), "args": inner(obj.args),
             "keywords": inner(obj.keywords)},
        )  # fmt: skip
    if isinstance(obj, types.MethodType):
        parts = {"func": inner(obj.__func__), "self": inner(obj.__self__)}
        return _node("method", parts)
    if hasattr(obj, "__wrapped__") and callable(obj):  # jax.jit, functools.wraps
        wrapped = {"wrapped": inner(obj.__wrapped__)}
        return _node(f"wrapper {_name(type(obj))}", wrapped)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # named tuples
        fields = {f: inner(getattr(obj, f)) for f in obj._fields}
        return _node(_name(type(obj)), fields)
    if dataclasses.is_dataclass(obj):
        fields = {f.name: inner(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return _node(_name(type(obj)), fields)
    if isinstance(obj, list | tuple):
        items = {f"[{i}]": inner(x) for i, x in enumerate(obj)}
        return _node(type(obj).__name__, items)
    if isinstance(obj, set | frozenset):
        members = sorted((inner(x) for x in obj), key=str)
        return _node("set", {f"[{i}]": x for i, x in enumerate(members)})
    if isinstance(obj, dict):
        keyed = {f"[{_leaf(k) or inner(k)}]": inner(v) for k, v in obj.items()}
        return _node("dict", dict(sorted(keyed.items())))
    if hasattr(obj, "__dict__"):
        attrs = sorted(vars(obj).items())
        return _node(_name(type(obj)), {k: inner(v) for k, v in attrs})
    return f"{UNSEEN} {_name(type(obj))} object: no attributes to read>"


def _leaf(obj: Any) -> str | None:
    """The description of a value that has no parts, else ``None``."""
    if obj is None or isinstance(obj, bool | int | float | complex | str | bytes):
        return repr(obj)
    if isinstance(obj, np.generic | np.dtype):
        return repr(obj)
    if isinstance(obj, type):
        return f"class {_name(obj)}"
    if isinstance(obj, types.ModuleType):
        return f"module {obj.__name__}"
    if isinstance(obj, types.BuiltinFunctionType | np.ufunc):
        return f"builtin {_name(obj)}"
    if isinstance(obj, types.CodeType):
        return f"code {_code_hash(obj)}"
    if isinstance(obj, np.ndarray) or _is_jax_array(obj):
        return _array(obj)
    return None


def _is_jax_array(obj: Any) -> bool:
    import jax

    return isinstance(obj, jax.Array)


def _array(obj: Any) -> str:
    import jax

    if jax.dtypes.issubdtype(getattr(obj, "dtype", None), jax.dtypes.prng_key):
        obj = jax.random.key_data(obj)
    a = np.ascontiguousarray(np.asarray(obj))
    head = f"{a.dtype.str}{list(a.shape)}"
    if a.size <= _SHOWN:
        return f"{head}:{a.tolist()!r}"
    return f"{head}:sha256={hashlib.sha256(a.data).hexdigest()}"


def _is_library(fn: Any) -> bool:
    module = getattr(fn, "__module__", None) or ""
    return module.split(".")[0] in LIBRARIES


def _function(fn: types.FunctionType, inner: Any) -> Description:
    children: dict[str, Description] = {}
    cells = fn.__closure__ or ()
    for name, cell in zip(fn.__code__.co_freevars, cells, strict=True):
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not filled yet
            children[name] = "<empty cell>"
            continue
        children[name] = inner(value)
    if fn.__defaults__:
        children["(defaults)"] = inner(fn.__defaults__)
    if fn.__kwdefaults__:
        children["(kwdefaults)"] = inner(fn.__kwdefaults__)
    if not _is_library(fn):
        children["(code)"] = _code_hash(fn.__code__)
        for name in sorted(_global_names(fn.__code__)):
            if name in fn.__globals__:
                children[f"(global {name})"] = _global(fn.__globals__[name], inner)
    return _node(f"function {_name(fn)}", children)


def _global(value: Any, inner: Any) -> Description:
    """A module global that a user function names: plain values, arrays and
    functions are read; modules and classes are named; other objects are not
    read (their state may change between the run and the resume)."""
    leaf = _leaf(value)
    if leaf is not None:
        return leaf
    plain = (types.FunctionType, functools.partial, tuple, list, dict, frozenset)
    if isinstance(value, plain):
        return inner(value)
    return f"{UNSEEN} global of type {_name(type(value))}>"


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _code_hash(code: types.CodeType) -> str:
    """A hash of compiled code: its bytecode, constants and names (stable across
    processes of one Python version; line numbers and comments excluded)."""
    digest = hashlib.sha256(code.co_code)
    for const in code.co_consts:
        text = _code_hash(const) if isinstance(const, types.CodeType) else repr(const)
        digest.update(text.encode())
    digest.update(repr((code.co_names, code.co_varnames, code.co_freevars)).encode())
    return digest.hexdigest()[:16]


# -- reading descriptions -----------------------------------------------------------
def _walk(desc: Description, path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(desc, dict):
        yield path, desc
        return
    yield f"{path}()" if path else "()", desc["()"]
    for key, child in desc.items():
        if key != "()":
            step = key if key.startswith("[") else f".{key}"
            yield from _walk(child, f"{path}{step}" if path else key)


def flatten(desc: Description) -> dict[str, str]:
    """``{path: leaf}`` of a description (a node's kind at ``path()``)."""
    return dict(_walk(desc, ""))


def differences(
    there: Description, here: Description
) -> list[tuple[str, str, str]]:
    """``(path, value there, value here)`` for each leaf that differs
    (``"(absent)"`` where one side has no such path), in the order met."""
    a, b = flatten(there), flatten(here)
    out = []
    for path in [*a, *(p for p in b if p not in a)]:
        x, y = a.get(path, "(absent)"), b.get(path, "(absent)")
        if x != y:
            out.append((path, x, y))
    return out


def unseen(desc: Description) -> list[str]:
    """The paths of the parts :func:`describe` could not read."""
    return [p for p, leaf in flatten(desc).items() if leaf.startswith(UNSEEN)]


def summary(desc: Description, limit: int = 240) -> str:
    """A short, readable rendering of a description (at most ``limit``
    characters), e.g. ``chain(clip_by_global_norm(max_norm=1.0), ...)``."""
    text = _render(desc)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _render(desc: Description) -> str:
    if not isinstance(desc, dict):
        return desc
    kind = desc["()"]
    children = {k: v for k, v in desc.items() if k != "()"}
    if kind.endswith("GradientTransformation") or kind.endswith("ExtraArgs"):
        return _render(children.get("update", "?"))  # init repeats the settings
    if kind.startswith("function "):
        short = kind.removeprefix("function ").split(":")[-1].split(".<locals>")[0]
        shown = {k: v for k, v in children.items() if not k.startswith("(")}
        if short in _PASS_THROUGH and len(shown) == 1:
            return _render(next(iter(shown.values())))
        if len(shown) == 1 and isinstance(only := next(iter(shown.values())), dict):
            if only["()"] in ("tuple", "list"):  # chain(update_fns=(a, b)): chain(a, b)
                return f"{short}{_render(only)}"
        return f"{short}({', '.join(f'{k}={_render(v)}' for k, v in shown.items())})"
    if kind in ("tuple", "list", "set"):
        return f"({', '.join(_render(v) for v in children.values())})"
    if kind == "dict":
        entries = (f"{k[1:-1]}: {_render(v)}" for k, v in children.items())
        return "{" + ", ".join(entries) + "}"
    short = kind.split(":", 1)[-1]
    return f"{short}({', '.join(f'{k}={_render(v)}' for k, v in children.items())})"
