"""Diagrams as JSON: one two-way table row per box kind.

A diagram is written as its wire types and its layers; each layer lists
``[type, box, type, ...]`` and each box is a JSON object whose ``"box"`` tag
names its kind. :data:`BOX_CODECS` is the closed set of kinds, each with its
encoder and decoder side by side, so a new kind is one row here.
:func:`encode_diagram` writes a whole diagram; :mod:`catlearn.io` checks the
format and version before :func:`decode_diagram` (``docs/saving.md``).

>>> import catlearn as cl
>>> d = cl.Copy(cl.real(2)) >> cl.Swap(cl.real(2), cl.real(2))
>>> assert decode_diagram(encode_diagram(d)) == d
>>> for box in (cl.Param("w", cl.bits(4)), cl.Box("f", cl.real(1), cl.bits(2))):
...     assert decode_box(encode_box(box, "here")) == box
>>> sorted(BOX_CODECS)
['box', 'copy', 'discard', 'param', 'swap']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from discopy.monoidal import Layer, Ty

from .._errors import CatlearnError
from .._zipfile import FormatError, clip
from ._diagram import Box, Diagram, Param, as_diagram
from ._structure import _Copy, _Discard, _Swap
from ._types import Wire

# -- wire types and box data ---------------------------------------------------


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
    """Whether box data is a spec (sorted, distinct ``(str, value)`` pairs),
    written as a JSON object rather than a tagged tuple."""
    return (
        isinstance(data, tuple)
        and all(isinstance(kv, tuple) and len(kv) == 2 for kv in data)
        and all(isinstance(k, str) for k, _ in data)
        and list(data) == sorted(data, key=lambda kv: kv[0])
        and len({k for k, _ in data}) == len(data)
    )


def copies(n: Any) -> int:
    if type(n) is not int or n < 0:
        raise ValueError(f"a copy's n must be an int >= 0, got {clip(n, 40)}")
    return n


# -- the table: one row per box kind ----------------------------------------------


@dataclass(frozen=True)
class BoxCodec:
    """How one kind of box is written: ``encode(box, where)`` gives its fields
    (after the ``"box": tag`` entry), ``decode(fields)`` the box again."""

    kind: type
    encode: Callable[[Any, str], dict[str, Any]]
    decode: Callable[[dict[str, Any]], Any]


def _encode_box(box: Box, where: str) -> dict[str, Any]:
    out = {"name": box.name, "dom": ty_to_json(box.dom), "cod": ty_to_json(box.cod)}
    if is_spec(box.data):
        out["spec"] = {k: value_to_json(v, where) for k, v in box.data}
    elif box.data is not None:
        out["data"] = value_to_json(box.data, where)
    return out


def _decode_box(b: dict[str, Any]) -> Box:
    if "spec" in b:
        data = tuple((k, value_from_json(v)) for k, v in sorted(b["spec"].items()))
    else:
        data = value_from_json(b.get("data"))
    return Box(b["name"], ty_from_json(b["dom"]), ty_from_json(b["cod"]), data=data)


def _encode_param(box: Param, where: str) -> dict[str, Any]:
    s = box.spec
    return {
        "name": box.name,
        "cod": ty_to_json(box.cod),
        "init": s["init"],
        "scale": s["scale"],
        "relax": s["relax"],
    }


def _decode_param(b: dict[str, Any]) -> Param:
    cod = ty_from_json(b["cod"])
    return Param(b["name"], cod, init=b["init"], scale=b["scale"], relax=b["relax"])


# {tag: row}; the tag is the JSON's "box" field. A kind is matched exactly
# (a subclass of Box is not a Box here: it may carry state the row drops).
BOX_CODECS: dict[str, BoxCodec] = {
    "param": BoxCodec(Param, _encode_param, _decode_param),
    "swap": BoxCodec(
        _Swap,
        lambda box, where: {
            "left": ty_to_json(box.left),
            "right": ty_to_json(box.right),
        },
        lambda b: _Swap(ty_from_json(b["left"]), ty_from_json(b["right"])),  # type: ignore[call-arg]
    ),
    "copy": BoxCodec(
        _Copy,
        lambda box, where: {"dom": ty_to_json(box.dom), "n": len(box.cod)},
        lambda b: _Copy(ty_from_json(b["dom"]), copies(b["n"])),  # type: ignore[call-arg]
    ),
    "discard": BoxCodec(
        _Discard,
        lambda box, where: {"dom": ty_to_json(box.dom)},
        lambda b: _Discard(ty_from_json(b["dom"])),  # type: ignore[call-arg]
    ),
    "box": BoxCodec(Box, _encode_box, _decode_box),
}
_TAGS = {row.kind: tag for tag, row in BOX_CODECS.items()}


def encode_box(box: Any, where: str) -> dict[str, Any]:
    """The JSON object of ``box``; :class:`FormatError` naming ``where`` if it
    is of no kind in :data:`BOX_CODECS` or holds data JSON cannot."""
    if getattr(box, "is_dagger", False):
        raise FormatError(f"{where}: dagger box {box!r} cannot be saved.")
    kind = type(box)
    tag = _TAGS.get(kind)
    if tag is None:
        raise FormatError(
            f"{where}: {box!r} is a {kind.__module__}.{kind.__name__}, not a "
            "catlearn box. Fix: build diagrams from cl.Box, cl.Param, cl.Id, "
            "cl.Swap, cl.Copy and cl.Discard (cl.diagrams.from_discopy casts the "
            "diagram, not its boxes)."
        )
    return {"box": tag, **BOX_CODECS[tag].encode(box, where)}


def decode_box(b: Any) -> Any:
    """The box of a JSON object made by :func:`encode_box` (``ValueError`` and
    friends if it is malformed; :func:`decode_diagram` names where)."""
    if not isinstance(b, dict) or b.get("box") not in BOX_CODECS:
        raise ValueError(
            f"unknown box {clip(b, 100)}; known kinds: {sorted(BOX_CODECS)}"
        )
    return BOX_CODECS[b["box"]].decode(b)


# -- diagrams ---------------------------------------------------------------------


FORMAT = "catlearn.diagram"
VERSION = 1  # of the diagram JSON; catlearn.io reads and upgrades versions


def encode_diagram(diagram: Any) -> dict[str, Any]:
    """The JSON-ready dict of a diagram: ``{"format", "version", "dom", "cod",
    "layers"}`` (``json.dumps`` of it is ``catlearn.io.to_json``'s text)."""
    d = as_diagram(diagram)
    layers = []
    for i, layer in enumerate(d.inside):
        items: list[Any] = []
        for j, x in enumerate(layer.boxes_or_types):
            items.append(encode_box(x, f"layer {i}") if j % 2 else ty_to_json(x))
        layers.append(items)
    return {
        "format": FORMAT,
        "version": VERSION,
        "dom": ty_to_json(d.dom),
        "cod": ty_to_json(d.cod),
        "layers": layers,
    }


_MALFORMED = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
    OverflowError,
    RecursionError,
)


def decode_diagram(obj: Any, source: str = "diagram JSON") -> Diagram:
    """The diagram of a dict made by :func:`encode_diagram` (its ``"dom"``,
    ``"cod"`` and ``"layers"``; :func:`catlearn.io.from_dict` checks the
    format and version first); :class:`FormatError` naming ``source`` and the
    layer if it is malformed or does not type-check."""
    if not isinstance(obj, dict):
        raise FormatError(
            f"{source} is not a JSON object. Fix: pass text made by "
            "catlearn.io.to_json."
        )
    written, copied = wire_counts(obj)
    if copied > written + 64:
        raise FormatError(
            f"{source}: its copies make {copied} wires, but it lists only "
            f"{written}; a diagram written by catlearn lists every wire a copy "
            "makes. Fix: regenerate it with catlearn.io.to_json."
        )
    where = "the top level"
    try:
        dom, cod = ty_from_json(obj["dom"]), ty_from_json(obj["cod"])
        parts = []
        for i, items in enumerate(obj["layers"]):
            where = f"layer {i}"
            if not isinstance(items, list) or len(items) % 2 != 1 or len(items) < 3:
                raise ValueError("a layer must be [type, box, type, ...]")
            decoded = [
                decode_box(x) if j % 2 else ty_from_json(x) for j, x in enumerate(items)
            ]
            layer = Layer(*decoded)
            parts.append(Diagram((layer,), layer.dom, layer.cod))
        diagram = Diagram.id(dom).then(*parts) if parts else Diagram.id(dom)
    except CatlearnError as e:
        raise FormatError(f"{source}, {where}: {clip(str(e), 500)}") from e
    except _MALFORMED as e:
        raise FormatError(
            f"{source}, {where}: malformed ({type(e).__name__}: "
            f"{clip(str(e), 300)}). Fix: "
            "regenerate it with catlearn.io.to_json; see docs/saving.md."
        ) from e
    if diagram.cod != cod:
        raise FormatError(
            f"{source}: the layers end in {clip(diagram.cod, 200)} but the stated "
            f"cod is {clip(cod, 200)}. Fix: regenerate it with catlearn.io.to_json."
        )
    return diagram


def wire_counts(obj: dict[str, Any]) -> tuple[int, int]:
    """``(written, copied)``: how many wires the JSON lists, and how many the
    copies in it make. Each wire a copy makes is listed again later (in the
    next layer, or the cod), so in a diagram made by :func:`encode_diagram`
    copied <= written: a few bytes such as ``"n": 1000000`` cannot ask for a
    million wires."""

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
