"""The values in catlearn's files: wire types, boxes and box data as JSON
(one decoder per generator, a closed set), parameter arrays checked against a
diagram, and metadata checked to be JSON that loads back equal.
:mod:`catlearn.io` puts them together into diagram JSON and model files.

>>> import catlearn as cl
>>> ty_from_json(ty_to_json(cl.real(2) @ cl.bits(3))) == cl.real(2) @ cl.bits(3)
True
>>> json_problem({"lr": float("nan")})
"metadata['lr'] is nan"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from discopy.monoidal import Ty

from ._errors import CatlearnError
from ._zipfile import DTYPES, FormatError, clip
from .diagrams import _diagram as _d
from .diagrams._types import Wire


def ty_to_json(ty: Ty) -> list[dict[str, Any]]:
    out = []
    for w in ty.inside:
        entry: dict[str, Any] = {"kind": w.kind, "shape": list(w.shape)}
        if w.label:
            entry["name"] = w.label
        out.append(entry)
    return out


def ty_from_json(obj: Any) -> Ty:
    if not isinstance(obj, list):
        raise ValueError(f"a type must be a list of wires, got {clip(obj, 100)}")
    wires = []
    for w in obj:
        if not isinstance(w, dict) or not isinstance(w.get("shape"), list):
            raise ValueError(f"a wire must be {{'kind', 'shape'}}, got {clip(w, 100)}")
        wires.append(Wire(w["kind"], tuple(w["shape"]), w.get("name")))
    return Ty(*wires)


def value_to_json(v: Any, where: str) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if not np.isfinite(v):
            raise FormatError(f"{where}: the float {v!r} has no JSON form.")
        return v
    if isinstance(v, tuple):
        return {"tuple": [value_to_json(x, where) for x in v]}
    raise FormatError(
        f"{where}: box data value {v!r} ({type(v).__name__}) cannot be saved. "
        "Fix: keep box data to None, bool, int, float, str and tuples of them "
        "(cl.diagrams.spec(...) of such values)."
    )


def value_from_json(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) != {"tuple"} or not isinstance(v["tuple"], list):
            raise ValueError(f"unknown data value {clip(v, 100)}")
        return tuple(value_from_json(x) for x in v["tuple"])
    if isinstance(v, list):
        raise ValueError(
            f"lists are not data values (tuples are tagged): {clip(v, 100)}"
        )
    return v


def is_spec(data: Any) -> bool:
    return (
        isinstance(data, tuple)
        and all(isinstance(kv, tuple) and len(kv) == 2 for kv in data)
        and all(isinstance(k, str) for k, _ in data)
        and list(data) == sorted(data, key=lambda kv: kv[0])
        and len({k for k, _ in data}) == len(data)
    )


def box_to_json(box: Any, where: str) -> dict[str, Any]:
    if getattr(box, "is_dagger", False):
        raise FormatError(f"{where}: dagger box {box!r} cannot be saved.")
    kind = type(box)
    if kind is _d.Param:
        s = box.spec
        return {
            "box": "param",
            "name": box.name,
            "cod": ty_to_json(box.cod),
            "init": s["init"],
            "scale": s["scale"],
            "relax": s["relax"],
        }
    if kind is _d.Swap:
        return {
            "box": "swap",
            "left": ty_to_json(box.left),
            "right": ty_to_json(box.right),
        }
    if kind is _d._Copy:
        return {"box": "copy", "dom": ty_to_json(box.dom), "n": len(box.cod)}
    if kind is _d._Discard:
        return {"box": "discard", "dom": ty_to_json(box.dom)}
    if kind is _d.Box:
        out: dict[str, Any] = {
            "box": "box",
            "name": box.name,
            "dom": ty_to_json(box.dom),
            "cod": ty_to_json(box.cod),
        }
        if is_spec(box.data):
            out["spec"] = {k: value_to_json(v, where) for k, v in box.data}
        elif box.data is not None:
            out["data"] = value_to_json(box.data, where)
        return out
    raise FormatError(
        f"{where}: {box!r} is a {kind.__module__}.{kind.__name__}, not a catlearn "
        "box. Fix: build diagrams from cl.Box, cl.Param, cl.Id, cl.Swap, "
        "cl.Copy and cl.Discard (cl.diagrams.from_discopy casts the diagram, "
        "not its boxes)."
    )


# The closed set of generators, one decoder each.
DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "box": lambda b: _d.Box(
        b["name"],
        ty_from_json(b["dom"]),
        ty_from_json(b["cod"]),
        data=(
            tuple((k, value_from_json(v)) for k, v in sorted(b["spec"].items()))
            if "spec" in b
            else value_from_json(b.get("data"))
        ),
    ),
    "param": lambda b: _d.Param(
        b["name"],
        ty_from_json(b["cod"]),
        init=b["init"],
        scale=b["scale"],
        relax=b["relax"],
    ),
    "swap": lambda b: _d.Swap(  # type: ignore[call-arg]
        ty_from_json(b["left"]), ty_from_json(b["right"])
    ),
    "copy": lambda b: _d._Copy(ty_from_json(b["dom"]), copies(b["n"])),  # type: ignore[call-arg]
    "discard": lambda b: _d._Discard(ty_from_json(b["dom"])),  # type: ignore[call-arg]
}


def copies(n: Any) -> int:
    if type(n) is not int or n < 0:
        raise ValueError(f"a copy's n must be an int >= 0, got {clip(n, 40)}")
    return n


def wire_counts(obj: dict[str, Any]) -> tuple[int, int]:
    """``(written, copied)``: how many wires the JSON lists, and how many the
    copies in it make. Each wire a copy makes is listed again later (in the
    next layer, or the cod), so in a diagram made by :func:`to_json` copied
    <= written: a few bytes such as ``"n": 1000000`` cannot ask for a million
    wires."""

    def size(ty: Any) -> int:
        return len(ty) if isinstance(ty, list) else 0

    written = size(obj.get("dom")) + size(obj.get("cod"))
    copied = 0
    layers = obj.get("layers")
    for items in layers if isinstance(layers, list) else []:
        for j, x in enumerate(items if isinstance(items, list) else []):
            if not j % 2:
                written += size(x)
            elif isinstance(x, dict):
                written += sum(size(x.get(k)) for k in ("dom", "cod", "left", "right"))
                n = x.get("n") if x.get("box") == "copy" else 0
                if type(n) is int:
                    copied += max(n, 0) * max(size(x.get("dom")), 1)
    return written, copied


def decode_box(b: Any) -> Any:
    if not isinstance(b, dict) or b.get("box") not in DECODERS:
        raise ValueError(f"unknown box {clip(b, 100)}; known kinds: {sorted(DECODERS)}")
    return DECODERS[b["box"]](b)


def allowed_shapes(diagram: _d.Diagram) -> dict[str, set[tuple[int, ...]]]:
    """Each parameter's acceptable shapes: its wire's shape, and its shape
    under ``Smooth`` and ``Boolean`` where those compile the diagram."""
    from . import functors

    out = {name: {ty.inside[0].shape} for name, ty in _d.params(diagram).items()}
    for semantics in (functors.Smooth, functors.Boolean):
        try:
            shapes = semantics()(diagram).param_shapes
        except CatlearnError:
            continue
        for name, shape in shapes.items():
            out.setdefault(name, set()).add(tuple(shape))
    return out


def mismatch(diagram: _d.Diagram, shapes: Mapping[str, tuple[int, ...]]) -> str:
    """'' if ``shapes`` fits the diagram's parameters, else what is wrong."""
    allowed = allowed_shapes(diagram)
    missing = [n for n in allowed if n not in shapes]
    extra = [n for n in shapes if n not in allowed]
    if missing or extra:
        return (
            f"parameter names differ: missing {missing}, unexpected {extra} "
            f"(the diagram has {list(allowed)})"
        )
    for name, shape in shapes.items():
        if tuple(shape) not in allowed[name]:
            return (
                f"parameter {name!r} has shape {tuple(shape)}, the diagram "
                f"expects one of {sorted(allowed[name])}"
            )
    return ""


def as_array(path: str, name: Any, value: Any) -> np.ndarray:
    """A little-endian copy of ``value`` in one of the format's dtypes
    (:data:`catlearn._zipfile.DTYPES`): big-endian arrays are converted, other
    dtypes refused -- as :func:`load` refuses them."""
    try:
        a = np.array(value, copy=True)  # a copy: the caller's params stay untouched
    except (TypeError, ValueError, OverflowError, RuntimeError) as e:
        raise FormatError(
            f"cannot save to {path!r}: parameter {clip(name, 80)} is not an array "
            f"({type(e).__name__}: {clip(str(e), 200)}). Fix: pass numpy or JAX "
            "arrays, e.g. prog.init(key)."
        ) from e
    if a.dtype.kind in "biuf" and a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    if a.dtype.str not in DTYPES or np.dtype(a.dtype.str) != a.dtype:
        raise FormatError(
            f"cannot save to {path!r}: parameter {clip(name, 80)} has dtype "
            f"{clip(str(a.dtype), 80)}, which the save format does not hold (it "
            f"holds {', '.join(DTYPES)}). Fix: convert it to bool, an int or a "
            "float type (e.g. a.astype(np.float32)) before saving."
        )
    return a


def json_problem(value: Any, where: str = "metadata", depth: int = 0) -> str:
    """'' if ``value`` is JSON that :func:`load` gives back equal, else what is
    not: a non-str key, a non-finite float, a type JSON does not hold."""
    if depth > 100:
        return f"{where} is nested more than 100 deep"
    if value is None or isinstance(value, bool | int | str):
        return ""
    if isinstance(value, float):
        return "" if np.isfinite(value) else f"{where} is {value!r}"
    if isinstance(value, list):
        for i, v in enumerate(value):
            problem = json_problem(v, f"{where}[{i}]", depth + 1)
            if problem:
                return problem
        return ""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{where} has the key {clip(k, 60)} ({type(k).__name__})"
            problem = json_problem(v, f"{where}[{clip(k, 60)!r}]", depth + 1)
            if problem:
                return problem
        return ""
    return f"{where} is a {type(value).__name__}"
