"""Saving and loading: diagrams as JSON, models as one safe zip file.

A diagram round-trips through catlearn's own JSON spec (DisCoPy's pickles and
JSON loader do not handle catlearn's boxes); a model -- diagram, parameter
arrays and metadata -- is one ``.npz``-style zip that loads without pickle.
The format is documented in ``docs/saving.md``.

>>> import catlearn as cl
>>> from catlearn.io import from_json, to_json
>>> d = cl.Copy(cl.real(2)) >> cl.Box("f", cl.real(2), cl.bits(1)) @ cl.real(2)
>>> assert from_json(to_json(d)) == d
>>> m = cl.nn.mlp([4, 8, 3])
>>> assert from_json(to_json(m)) == m
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from discopy.monoidal import Layer, Ty

from ._errors import CatlearnError, ParamError
from .diagrams import _diagram as _d
from .diagrams._types import Wire

FORMAT = "catlearn"
DIAGRAM_FORMAT = "catlearn.diagram"
VERSION = 1
HEADER = "catlearn.json"
DIAGRAM = "diagram.json"


class FormatError(CatlearnError, ValueError):
    """A file or JSON text is not a valid catlearn save (truncated, corrupted,
    mismatched), or a value cannot be written in the format."""


class VersionError(FormatError):
    """A save file has a format version this catlearn cannot read."""


class MissingFileError(CatlearnError, FileNotFoundError):
    """A save file to load does not exist."""


class SaveError(CatlearnError, OSError):
    """A file cannot be written there: its directory does not exist, the path
    is a directory, or the system refused the write."""


# --------------------------------------------------------------------------
# Diagrams <-> JSON


def _ty_to_json(ty: Ty) -> list[dict[str, Any]]:
    out = []
    for w in ty.inside:
        entry: dict[str, Any] = {"kind": w.kind, "shape": list(w.shape)}
        if w.label:
            entry["name"] = w.label
        out.append(entry)
    return out


def _ty_from_json(obj: Any) -> Ty:
    if not isinstance(obj, list):
        raise ValueError(f"a type must be a list of wires, got {obj!r}")
    wires = []
    for w in obj:
        if not isinstance(w, dict) or not isinstance(w.get("shape"), list):
            raise ValueError(f"a wire must be {{'kind', 'shape'}}, got {w!r}")
        wires.append(Wire(w["kind"], tuple(w["shape"]), w.get("name")))
    return Ty(*wires)


def _value_to_json(v: Any, where: str) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if not np.isfinite(v):
            raise FormatError(f"{where}: the float {v!r} has no JSON form.")
        return v
    if isinstance(v, tuple):
        return {"tuple": [_value_to_json(x, where) for x in v]}
    raise FormatError(
        f"{where}: box data value {v!r} ({type(v).__name__}) cannot be saved. "
        "Fix: keep box data to None, bool, int, float, str and tuples of them "
        "(cl.diagrams.spec(...) of such values)."
    )


def _value_from_json(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) != {"tuple"} or not isinstance(v["tuple"], list):
            raise ValueError(f"unknown data value {v!r}")
        return tuple(_value_from_json(x) for x in v["tuple"])
    if isinstance(v, list):
        raise ValueError(f"lists are not data values (tuples are tagged): {v!r}")
    return v


def _is_spec(data: Any) -> bool:
    return (
        isinstance(data, tuple)
        and all(isinstance(kv, tuple) and len(kv) == 2 for kv in data)
        and all(isinstance(k, str) for k, _ in data)
        and list(data) == sorted(data, key=lambda kv: kv[0])
        and len({k for k, _ in data}) == len(data)
    )


def _box_to_json(box: Any, where: str) -> dict[str, Any]:
    if getattr(box, "is_dagger", False):
        raise FormatError(f"{where}: dagger box {box!r} cannot be saved.")
    kind = type(box)
    if kind is _d.Param:
        s = box.spec
        return {
            "box": "param",
            "name": box.name,
            "cod": _ty_to_json(box.cod),
            "init": s["init"],
            "scale": s["scale"],
            "relax": s["relax"],
        }
    if kind is _d.Swap:
        return {
            "box": "swap",
            "left": _ty_to_json(box.left),
            "right": _ty_to_json(box.right),
        }
    if kind is _d._Copy:
        return {"box": "copy", "dom": _ty_to_json(box.dom), "n": len(box.cod)}
    if kind is _d._Discard:
        return {"box": "discard", "dom": _ty_to_json(box.dom)}
    if kind is _d.Box:
        out: dict[str, Any] = {
            "box": "box",
            "name": box.name,
            "dom": _ty_to_json(box.dom),
            "cod": _ty_to_json(box.cod),
        }
        if _is_spec(box.data):
            out["spec"] = {k: _value_to_json(v, where) for k, v in box.data}
        elif box.data is not None:
            out["data"] = _value_to_json(box.data, where)
        return out
    raise FormatError(
        f"{where}: {box!r} is a {kind.__module__}.{kind.__name__}, not a catlearn "
        "box. Fix: build diagrams from cl.Box, cl.Param, cl.Id, cl.Swap, "
        "cl.Copy and cl.Discard (cl.diagrams.from_discopy casts the diagram, "
        "not its boxes)."
    )


# The closed set of generators, one decoder each.
_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "box": lambda b: _d.Box(
        b["name"],
        _ty_from_json(b["dom"]),
        _ty_from_json(b["cod"]),
        data=(
            tuple((k, _value_from_json(v)) for k, v in sorted(b["spec"].items()))
            if "spec" in b
            else _value_from_json(b.get("data"))
        ),
    ),
    "param": lambda b: _d.Param(
        b["name"],
        _ty_from_json(b["cod"]),
        init=b["init"],
        scale=b["scale"],
        relax=b["relax"],
    ),
    "swap": lambda b: _d.Swap(  # type: ignore[call-arg]
        _ty_from_json(b["left"]), _ty_from_json(b["right"])
    ),
    "copy": lambda b: _d._Copy(_ty_from_json(b["dom"]), b["n"]),  # type: ignore[call-arg]
    "discard": lambda b: _d._Discard(_ty_from_json(b["dom"])),  # type: ignore[call-arg]
}


def to_dict(diagram: Any) -> dict[str, Any]:
    """The JSON-ready dict of a diagram (see :func:`to_json`)."""
    d = _d.as_diagram(diagram)
    layers = []
    for i, layer in enumerate(d.inside):
        items: list[Any] = []
        for j, x in enumerate(layer.boxes_or_types):
            where = f"layer {i}"
            items.append(_box_to_json(x, where) if j % 2 else _ty_to_json(x))
        layers.append(items)
    return {
        "format": DIAGRAM_FORMAT,
        "version": VERSION,
        "dom": _ty_to_json(d.dom),
        "cod": _ty_to_json(d.cod),
        "layers": layers,
    }


def from_dict(obj: Any, source: str = "diagram JSON") -> _d.Diagram:
    """The diagram of a dict made by :func:`to_dict`; raises :class:`FormatError`
    naming ``source`` if it is malformed or does not type-check."""
    if not isinstance(obj, dict) or obj.get("format") != DIAGRAM_FORMAT:
        raise FormatError(
            f"{source} is not a catlearn diagram: expected an object with "
            f'"format": "{DIAGRAM_FORMAT}". Fix: pass text made by catlearn.io.to_json.'
        )
    _check_version(obj.get("version"), source)
    where = "the top level"
    try:
        dom, cod = _ty_from_json(obj["dom"]), _ty_from_json(obj["cod"])
        parts = []
        for i, items in enumerate(obj["layers"]):
            where = f"layer {i}"
            if not isinstance(items, list) or len(items) % 2 != 1 or len(items) < 3:
                raise ValueError("a layer must be [type, box, type, ...]")
            decoded = [
                _decode_box(x) if j % 2 else _ty_from_json(x)
                for j, x in enumerate(items)
            ]
            layer = Layer(*decoded)
            parts.append(_d.Diagram((layer,), layer.dom, layer.cod))
        diagram = _d.Diagram.id(dom).then(*parts) if parts else _d.Diagram.id(dom)
    except CatlearnError as e:
        raise FormatError(f"{source}, {where}: {e}") from e
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        IndexError,
        OverflowError,
        RecursionError,
    ) as e:
        raise FormatError(
            f"{source}, {where}: malformed ({type(e).__name__}: {e}). Fix: "
            "regenerate it with catlearn.io.to_json; see docs/saving.md."
        ) from e
    if diagram.cod != cod:
        raise FormatError(
            f"{source}: the layers end in {diagram.cod!r} but the stated cod is "
            f"{cod!r}. Fix: regenerate it with catlearn.io.to_json."
        )
    return diagram


def _decode_box(b: Any) -> Any:
    if not isinstance(b, dict) or b.get("box") not in _DECODERS:
        raise ValueError(f"unknown box {b!r}; known kinds: {sorted(_DECODERS)}")
    return _DECODERS[b["box"]](b)


def to_json(diagram: Any, indent: int | None = None) -> str:
    """The diagram as JSON text in catlearn's format (``docs/saving.md``);
    ``from_json(to_json(d)) == d``."""
    return json.dumps(to_dict(diagram), indent=indent, allow_nan=False)


def from_json(text: str | bytes, source: str = "diagram JSON") -> _d.Diagram:
    """The diagram of JSON text made by :func:`to_json`."""
    if not isinstance(text, str | bytes | bytearray):
        raise FormatError(
            f"{source} must be JSON text (str or bytes), got "
            f"{type(text).__name__}. Fix: pass text made by catlearn.io.to_json."
        )
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise FormatError(
            f"{source} is not valid JSON ({e}). Fix: pass text made by "
            "catlearn.io.to_json."
        ) from e
    return from_dict(obj, source)


# --------------------------------------------------------------------------
# Versions: one reader per known version; a v2 adds a converter from v1.

READABLE = (1,)


def _check_version(version: Any, source: str, writer: Any = None) -> int:
    """The file's format version if this catlearn reads it (possibly through
    the ``_UPGRADES`` converters), else a :class:`VersionError` that names the
    version, the catlearn release that wrote the file (when the header says)
    and what to do."""
    if not isinstance(version, bool) and version in READABLE:
        return int(version)
    by = f" by catlearn {writer}" if isinstance(writer, str) else ""
    older = isinstance(version, int) and not isinstance(version, bool)
    if older and version < min(READABLE):
        raise VersionError(
            f"{source} was written{by} in format version {version!r}, older "
            f"than this catlearn reads (versions {list(READABLE)}). Fix: load "
            f"it with the catlearn release that wrote it (pip install "
            f"'catlearn=={writer or '<that release>'}') and save it again with "
            "this one, or retrain."
        )
    raise VersionError(
        f"{source} has format version {version!r}{by}, but this catlearn "
        f"({_version()}) reads versions {list(READABLE)}. Fix: upgrade catlearn "
        "(pip install -U catlearn) to read newer files, or re-save the "
        "model with this version."
    )


def _version() -> str:
    from . import __version__

    return __version__


# Converters from an older version's header to the next one: {1: v1_to_v2}.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


# --------------------------------------------------------------------------
# Saving and loading models


@dataclass(frozen=True, eq=False)
class Saved:
    """What :func:`load` returns: the diagram, ``{name: numpy array}``, the
    metadata dict and the format version the file was written in."""

    diagram: _d.Diagram
    params: dict[str, np.ndarray]
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = VERSION


def _allowed_shapes(diagram: _d.Diagram) -> dict[str, set[tuple[int, ...]]]:
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


def _mismatch(diagram: _d.Diagram, shapes: Mapping[str, tuple[int, ...]]) -> str:
    """'' if ``shapes`` fits the diagram's parameters, else what is wrong."""
    allowed = _allowed_shapes(diagram)
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


def _as_array(name: str, value: Any) -> np.ndarray:
    a = np.array(value, copy=True)  # a copy: the caller's params stay untouched
    if a.dtype.kind not in "biuf" or np.dtype(a.dtype.str) != a.dtype:
        raise FormatError(
            f"parameter {name!r} has dtype {a.dtype}, which the save format does "
            "not hold. Fix: convert it to bool, an int or a float type "
            "(e.g. float32) before saving."
        )
    return a


def _write_array(zf: zipfile.ZipFile, entry: str, array: np.ndarray) -> None:
    with zf.open(entry, "w", force_zip64=True) as f:
        np.lib.format.write_array(f, array, allow_pickle=False)


def save(
    path: str | os.PathLike[str],
    diagram: Any,
    params: Mapping[str, Any],
    *,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Write ``diagram``, ``params`` and JSON ``metadata`` to one zip file at
    ``path``, atomically: a temporary file in the same directory, ``fsync``,
    then ``os.replace``, so a crash leaves any previous file intact.

    ``params`` must match the diagram's parameters by name, with each array
    shaped as the wire type or as ``Smooth``/``Boolean``'s ``param_shapes``.
    Nothing is pickled; the caller's arrays are copied, never modified.
    """
    path = os.fspath(path)
    d = _d.as_diagram(diagram)
    if not isinstance(params, Mapping):
        raise ParamError(
            f"cannot save to {path!r}: params must be a dict {{name: array}}, got "
            f"{type(params).__name__}. Fix: pass prog.init(key) or a fit "
            "result's params."
        )
    arrays = {name: _as_array(name, v) for name, v in params.items()}
    problem = _mismatch(d, {n: a.shape for n, a in arrays.items()})
    if problem:
        raise ParamError(
            f"cannot save to {path!r}: {problem}. Fix: pass the params of this "
            "diagram, e.g. cl.Smooth()(diagram).init(key) or a fit result's params."
        )
    try:
        meta_text = json.dumps(dict(metadata or {}), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise FormatError(
            f"cannot save to {path!r}: metadata is not JSON-serialisable ({e}). "
            "Fix: use str keys and str/number/bool/None/list/dict values."
        ) from e
    entries = {name: f"params/{i}.npy" for i, name in enumerate(arrays)}
    header = {
        "format": FORMAT,
        "version": VERSION,
        "catlearn": _version(),
        "params": {
            name: {"dtype": a.dtype.str, "shape": list(a.shape), "file": entries[name]}
            for name, a in arrays.items()
        },
        "metadata": json.loads(meta_text),
    }
    diagram_text = to_json(d)

    def write(zf: zipfile.ZipFile) -> None:
        zf.writestr(HEADER, json.dumps(header, indent=1))
        zf.writestr(DIAGRAM, diagram_text)
        for name, a in arrays.items():
            _write_array(zf, entries[name], a)

    write_zip_atomic(path, write)


def write_zip_atomic(
    path: str | os.PathLike[str], write: Callable[[zipfile.ZipFile], None]
) -> None:
    """Write a zip file at ``path`` atomically: ``write`` fills a temporary file
    in the same directory, which is ``fsync``-ed and then renamed over ``path``
    (``os.replace``). A crash at any point leaves the previous file intact."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise SaveError(
            f"cannot write {path!r}: the directory {directory!r} does not exist. "
            "Fix: create it first (os.makedirs(directory, exist_ok=True)) or "
            "choose another path."
        )
    if os.path.isdir(path):
        raise SaveError(
            f"cannot write {path!r}: it is a directory. Fix: give a file path "
            "inside it, e.g. os.path.join(path, 'model.catlearn')."
        )
    try:
        fd, tmp = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
        )
    except OSError as e:
        raise SaveError(
            f"cannot write {path!r} ({type(e).__name__}: {e}). Fix: check that "
            "the directory is writable, or choose another path."
        ) from e
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
                write(zf)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# What reading a truncated or corrupted zip of .npy arrays can raise.
READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    KeyError,
    UnicodeDecodeError,
    OSError,
    TypeError,
    AttributeError,
    IndexError,
    OverflowError,
    MemoryError,  # a corrupted size field asking for a huge array
    RecursionError,
)


def load(path: str | os.PathLike[str]) -> Saved:
    """Read a file written by :func:`save`. Raises :class:`MissingFileError`,
    :class:`VersionError` or :class:`FormatError` (truncated, corrupted or
    mismatched file) and never returns part of a file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MissingFileError(
            f"no catlearn save file at {path!r}. Fix: check the path "
            "(write one with catlearn.io.save)."
        )
    fix = "Fix: re-save the model with catlearn.io.save (or restore a backup)."
    try:
        with open(path, "rb") as f:
            blob = f.read()
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            names = set(zf.namelist())
            if HEADER not in names:
                raise FormatError(
                    f"{path!r} is a zip but has no {HEADER!r} header, so it is "
                    f"not a catlearn save file. {fix}"
                )
            header = json.loads(zf.read(HEADER))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise FormatError(
                    f"{path!r}: the header's format is not {FORMAT!r}. {fix}"
                )
            version = _check_version(
                header.get("version"), repr(path), header.get("catlearn")
            )
            for v in range(version, VERSION):
                header = _UPGRADES[v](header)
            diagram = from_json(zf.read(DIAGRAM), f"{path!r} ({DIAGRAM})")
            params = {}
            for name, info in header["params"].items():
                with zf.open(info["file"]) as f:
                    a = np.lib.format.read_array(f, allow_pickle=False)
                if a.dtype.str != info["dtype"] or list(a.shape) != info["shape"]:
                    raise FormatError(
                        f"{path!r}: parameter {name!r} is {a.dtype.str} "
                        f"{list(a.shape)} but the header says {info['dtype']} "
                        f"{info['shape']}. {fix}"
                    )
                params[name] = a
            metadata = header.get("metadata") or {}
    except FormatError:
        raise
    except READ_ERRORS as e:
        raise FormatError(
            f"{path!r} is truncated or corrupted, or not a catlearn save file "
            f"({type(e).__name__}: {e}). {fix}"
        ) from e
    problem = _mismatch(diagram, {n: a.shape for n, a in params.items()})
    if problem:
        raise FormatError(
            f"{path!r}: the params do not match its diagram: {problem}. {fix}"
        )
    return Saved(diagram, params, metadata, version)
