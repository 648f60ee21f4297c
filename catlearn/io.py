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

import json
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._atomic import check_target
from ._atomic import write_zip_atomic as write_zip_atomic
from ._codec import as_array, json_problem
from ._errors import CatlearnError, ParamError
from ._version import __version__
from ._zipfile import DTYPES, ZipReader, as_path, clip
from ._zipfile import READ_ERRORS as READ_ERRORS
from ._zipfile import FormatError as FormatError
from ._zipfile import MissingFileError as MissingFileError
from ._zipfile import SaveError as SaveError
from ._zipfile import VersionError as VersionError
from .diagrams import Diagram, as_diagram, decode_diagram, encode_diagram, param_boxes
from .functors import Boolean, Functor, Smooth

FORMAT = "catlearn"
DIAGRAM_FORMAT = "catlearn.diagram"  # as encode_diagram writes it
VERSION = 1
HEADER = "catlearn.json"
DIAGRAM = "diagram.json"


# --------------------------------------------------------------------------
# Diagrams <-> JSON


def to_dict(diagram: Any) -> dict[str, Any]:
    """The JSON-ready dict of a diagram (see :func:`to_json`), written by the
    box table in ``catlearn/diagrams/_codec.py``."""
    return encode_diagram(diagram)


def from_dict(obj: Any, source: str = "diagram JSON") -> Diagram:
    """The diagram of a dict made by :func:`to_dict`; raises :class:`FormatError`
    naming ``source`` if it is malformed or does not type-check."""
    if not isinstance(obj, dict) or obj.get("format") != DIAGRAM_FORMAT:
        raise FormatError(
            f"{source} is not a catlearn diagram: expected an object with "
            f'"format": "{DIAGRAM_FORMAT}". Fix: pass text made by catlearn.io.to_json.'
        )
    _check_version(obj.get("version"), source)
    return decode_diagram(obj, source)


def to_json(diagram: Any, indent: int | None = None) -> str:
    """The diagram as JSON text in catlearn's format (``docs/saving.md``);
    ``from_json(to_json(d)) == d``."""
    return json.dumps(to_dict(diagram), indent=indent, allow_nan=False)


def from_json(text: str | bytes, source: str = "diagram JSON") -> Diagram:
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
            f"{source} is not valid JSON ({clip(str(e), 200)}). Fix: pass text made by "
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
    writer = clip(writer, 40) if isinstance(writer, str) else None
    by = f" by catlearn {writer}" if writer else ""
    older = isinstance(version, int) and not isinstance(version, bool)
    if older and version < min(READABLE):
        raise VersionError(
            f"{source} was written{by} in format version "
            f"{clip(repr(version), 40)}, older "
            f"than this catlearn reads (versions {list(READABLE)}). Fix: load "
            f"it with the catlearn release that wrote it (pip install "
            f"'catlearn=={writer or '<that release>'}') and save it again with "
            "this one, or retrain."
        )
    raise VersionError(
        f"{source} has format version {clip(repr(version), 40)}{by}, but this catlearn "
        f"({_version()}) reads versions {list(READABLE)}. Fix: upgrade catlearn "
        "(pip install -U catlearn) to read newer files, or re-save the "
        "model with this version."
    )


def _version() -> str:
    return __version__


# Converters from an older version's header to the next one: {1: v1_to_v2}.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


# --------------------------------------------------------------------------
# Parameter shapes: read off the functors' param_shape hook, no compiling

# The semantics whose parameter layout a saved array may have (besides the
# wire's own shape): a relaxed gate table holds 16 logits per gate under Smooth.
_SEMANTICS: tuple[type[Functor], ...] = (Smooth, Boolean)


def _allowed_shapes(diagram: Any) -> dict[str, set[tuple[int, ...]]]:
    """Each parameter's acceptable shapes: its wire's shape, and
    ``F.param_shape(box)`` for each semantics ``F`` in :data:`_SEMANTICS`
    that interprets the parameter's wire."""
    functors = [semantics() for semantics in _SEMANTICS]
    out = {}
    for name, box in param_boxes(diagram).items():
        wire = box.cod.inside[0]
        shapes = {tuple(wire.shape)}
        for functor in functors:
            try:
                functor.check_wire(wire, f"parameter {name!r}")
            except CatlearnError:
                continue
            shapes.add(tuple(functor.param_shape(box)))
        out[name] = shapes
    return out


def _mismatch(diagram: Any, shapes: Mapping[str, tuple[int, ...]]) -> str:
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


# --------------------------------------------------------------------------
# Saving and loading models


@dataclass(frozen=True, eq=False)
class Saved:
    """What :func:`load` returns: the diagram, ``{name: numpy array}``, the
    metadata dict and the format version the file was written in."""

    diagram: Diagram
    params: dict[str, np.ndarray]
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = VERSION


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
    shaped as the wire type or as ``Smooth``/``Boolean``'s ``param_shapes``,
    of a bool, int or float dtype (big-endian arrays are stored little-endian).
    ``metadata`` is a dict of JSON values (str keys, finite floats).
    Nothing is pickled; the caller's arrays are copied, never modified.
    """
    path = check_target(path)
    d = as_diagram(diagram)
    if not isinstance(params, Mapping):
        raise ParamError(
            f"cannot save to {path!r}: params must be a dict {{name: array}}, got "
            f"{type(params).__name__}. Fix: pass prog.init(key) or a fit "
            "result's params."
        )
    if metadata is not None and not isinstance(metadata, Mapping):
        raise FormatError(
            f"cannot save to {path!r}: metadata must be a dict, got "
            f"{type(metadata).__name__}. Fix: e.g. metadata={{'note': 'v1'}}."
        )
    meta = dict(metadata or {})
    problem = json_problem(meta)
    if problem:
        raise FormatError(
            f"cannot save to {path!r}: metadata is not JSON that loads back the "
            f"same: {problem}. Fix: use str keys and str/int/finite float/bool/"
            "None/list/dict values."
        )
    arrays = {name: as_array(path, name, v) for name, v in params.items()}
    problem = _mismatch(d, {n: a.shape for n, a in arrays.items()})
    if problem:
        raise ParamError(
            f"cannot save to {path!r}: {problem}. Fix: pass the params of this "
            "diagram, e.g. cl.Smooth()(diagram).init(key) or a fit result's params."
        )
    entries = {name: f"params/{i}.npy" for i, name in enumerate(arrays)}
    header = {
        "format": FORMAT,
        "version": VERSION,
        "catlearn": _version(),
        "params": {
            name: {"dtype": a.dtype.str, "shape": list(a.shape), "file": entries[name]}
            for name, a in arrays.items()
        },
        "metadata": meta,
    }
    header_text = json.dumps(header, indent=1, allow_nan=False)
    diagram_text = to_json(d)

    def write(zf: zipfile.ZipFile) -> None:
        zf.writestr(HEADER, header_text)
        zf.writestr(DIAGRAM, diagram_text)
        for name, a in arrays.items():
            _write_array(zf, entries[name], a)

    write_zip_atomic(path, write)


_HEADER_KEYS = {"format", "version", "catlearn", "params", "metadata"}


def load(path: str | os.PathLike[str]) -> Saved:
    """Read a file written by :func:`save`. Raises :class:`MissingFileError`,
    :class:`VersionError` or :class:`FormatError` (truncated, corrupted,
    compressed or mismatched file, or anything :func:`save` would not write)
    and never returns part of a file. The work done and the memory held are
    bounded by the file's size: every entry's size is checked against its
    declared shape before it is read (``docs/saving.md``)."""
    path = as_path(path, MissingFileError, "cannot load")
    if not os.path.isfile(path):
        raise MissingFileError(
            f"no catlearn save file at {path!r}. Fix: check the path "
            "(write one with catlearn.io.save)."
        )
    fix = "Fix: re-save the model with catlearn.io.save (or restore a backup)."
    try:
        with ZipReader(path, fix) as z:
            if HEADER not in z.names:
                raise z.fail(
                    f"the zip has no {HEADER!r} header, so it is not a catlearn "
                    "save file"
                )
            header = z.json(HEADER, allow_nan=False)
            version, header = _read_header(z, header, path)
            diagram = from_json(z.text(DIAGRAM), f"{path!r} ({DIAGRAM})")
            declared = {n: tuple(i["shape"]) for n, i in header["params"].items()}
            problem = _mismatch(diagram, declared)
            if problem:
                raise z.fail(f"the params do not match its diagram: {problem}")
            for name, info in header["params"].items():  # all checked, then read
                dtype, shape = z.npy(info["file"])
                if dtype.str != info["dtype"] or list(shape) != info["shape"]:
                    raise z.fail(
                        f"parameter {clip(name, 80)!r} is {dtype.str} {list(shape)}"
                        f" but the header says {info['dtype']} {info['shape']}"
                    )
            params = {n: z.array(i["file"]) for n, i in header["params"].items()}
    except FormatError:
        raise
    except READ_ERRORS as e:
        raise FormatError(
            f"{path!r} is truncated or corrupted, or not a catlearn save file "
            f"({type(e).__name__}: {clip(str(e), 300)}). {fix}"
        ) from e
    return Saved(diagram, params, header["metadata"], version)


def _read_header(z: ZipReader, header: Any, path: str) -> tuple[int, Any]:
    """Check a model's header as strictly as :func:`save` writes it (upgrading
    an older version's first); return the version it was written in."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise z.fail(f"the header's format is not {FORMAT!r}")
    writer = header.get("catlearn")
    version = _check_version(header.get("version"), repr(path), writer)
    for v in range(version, VERSION):
        header = _UPGRADES[v](header)
    header.setdefault("metadata", {})
    unknown = sorted(set(header) - _HEADER_KEYS)
    if unknown or not isinstance(writer, str | None):
        raise z.fail(f"the header has unknown keys {clip(unknown)}")
    if not isinstance(header["metadata"], dict):
        raise z.fail(
            f"the metadata is a {type(header['metadata']).__name__}, not a dict"
        )
    params = header.get("params")
    if not isinstance(params, dict):
        raise z.fail("the header's params are not a dict {name: entry}")
    files: set[str] = set()
    for name, info in params.items():
        shape = info.get("shape") if isinstance(info, dict) else None
        ok = (
            isinstance(info, dict)
            and set(info) == {"dtype", "shape", "file"}
            and info["dtype"] in DTYPES
            and isinstance(shape, list)
            and all(type(n) is int and n >= 0 for n in shape)
            and isinstance(info["file"], str)
            and info["file"] not in (HEADER, DIAGRAM, *files)
        )
        if not ok:
            raise z.fail(
                f"parameter {clip(name, 80)!r} has the entry {clip(info, 200)}, "
                "not {'dtype': one of catlearn's dtypes, 'shape': [sizes], 'file': "
                "an entry of its own}"
            )
        files.add(info["file"])
    if z.names != {HEADER, DIAGRAM, *files}:
        missing = sorted({DIAGRAM, *files} - z.names)
        extra = sorted(z.names - {HEADER, DIAGRAM, *files})
        raise z.fail(
            f"its entries are not those the header names: missing "
            f"{clip(missing)}, unexpected {clip(extra)}"
        )
    return version, header
