"""catlearn's zip files -- saved models and checkpoints -- read as untrusted
input (:mod:`catlearn._atomic` writes them).

Both are zips of JSON entries and ``.npy`` arrays, written uncompressed.
:class:`ZipReader` reads one so that the work done is bounded by the bytes in
the file: compressed and encrypted entries are refused (a few kilobytes of
DEFLATE can inflate to gigabytes), every entry must lie in the file without
overlapping another, a JSON entry may hold at most :data:`MAX_JSON_BYTES`, and
an array's ``.npy`` header must declare exactly the bytes its entry holds
before anything is allocated. Nothing is ever unpickled.

>>> import os, tempfile, zipfile
>>> path = os.path.join(tempfile.mkdtemp(), "bomb.zip")
>>> with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
...     zf.writestr("a.json", "[" + "0," * 10_000 + "0]")
>>> ZipReader(path, "Fix: none.")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
catlearn.io.FormatError: '...bomb.zip': entry 'a.json' is compressed (DEFLATE)...
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from typing import Any

import numpy as np

from ._errors import CatlearnError
from ._errors import FormatError as FormatError
from ._errors import MissingFileError as MissingFileError
from ._errors import SaveError as SaveError
from ._errors import VersionError as VersionError

# A JSON entry (a model's header or diagram, a checkpoint's header) holds at
# most this many bytes. The largest real ones are far smaller: a 10,000-box
# diagram is ~1.6 MB, a checkpoint's history ~150 bytes per epoch; parsing
# JSON can take ~20 times its size in Python objects.
MAX_JSON_BYTES = 16 * 2**20
# numpy's own default limit for a .npy header (np.lib.format)
MAX_NPY_HEADER = 10_000
# The array dtypes of the format: bool, integers and floats, little-endian on
# every machine (``save`` converts big-endian arrays; ``load`` refuses others).
DTYPES = (
    "|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8",
    "<f2", "<f4", "<f8",
)  # fmt: skip
_CHUNK = 2**20
_METHODS = {zipfile.ZIP_DEFLATED: "DEFLATE", zipfile.ZIP_BZIP2: "bzip2",
            zipfile.ZIP_LZMA: "LZMA"}  # fmt: skip


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
    MemoryError,
    RecursionError,
)


def clip(text: Any, n: int = 300) -> str:
    """``text`` (or its repr, if not a str) cut to about ``n`` characters, so
    that a crafted file cannot make a megabyte error message."""
    s = text if isinstance(text, str) else repr(text)
    return s if len(s) <= n else f"{s[:n]}... ({len(s)} characters)"


# --------------------------------------------------------------------------
# Paths


def as_path(path: Any, error: type[CatlearnError], doing: str) -> str:
    """``path`` as a str: a str or an ``os.PathLike`` of one. Bytes, another
    type, an empty path or a NUL character raise ``error``, its message
    starting with ``doing`` (as ``catlearn.fit`` refuses them)."""
    if isinstance(path, os.PathLike):
        try:
            path = os.fspath(path)
        except TypeError as e:  # a __fspath__ that returns something else
            raise error(
                f"{doing} {clip(path, 80)}: {clip(str(e), 200)}. "
                "Fix: pass the path as a str."
            ) from e
    if isinstance(path, bytes):
        raise error(
            f"{doing} {clip(path, 200)}: a path must be a str or os.PathLike, "
            f"got bytes. Fix: pass text, e.g. {clip(os.fsdecode(path), 200)!r} "
            "(os.fsdecode(path))."
        )
    if not isinstance(path, str):
        raise error(
            f"{doing} {clip(path, 80)}: a path must be a str or os.PathLike, got "
            f"{type(path).__name__}. Fix: pass the file's path, e.g. "
            "'model.catlearn' or pathlib.Path('model.catlearn')."
        )
    if not path:
        raise error(f"{doing} '': the path is empty. Fix: e.g. 'model.catlearn'.")
    if "\0" in path:
        raise error(
            f"{doing} {clip(path, 200)!r}: the path contains a NUL character "
            "('\\x00'), which no file name can hold. Fix: remove it, e.g. "
            f"{clip(path.replace(chr(0), ''), 200)!r}."
        )
    return path


# --------------------------------------------------------------------------
# Reading


def loads(text: str | bytes, allow_nan: bool = True) -> Any:
    """``json.loads`` that refuses duplicate keys in an object (two readers
    could see two values) and, unless ``allow_nan``, NaN and infinities."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) != len(items):
            seen: set[str] = set()
            for twice, _ in items:
                if twice in seen:
                    break
                seen.add(twice)
            raise ValueError(f"the key {clip(twice, 80)!r} appears twice in an object")
        return out

    def finite(s: str) -> float:
        value = float(s)
        if not allow_nan and not np.isfinite(value):
            raise ValueError(f"the number {clip(s, 40)} is not finite")
        return value

    def constant(s: str) -> float:
        if not allow_nan:
            raise ValueError(f"{s} is not a JSON number catlearn writes")
        return float(s)

    return json.loads(
        text, object_pairs_hook=pairs, parse_float=finite, parse_constant=constant
    )


class ZipReader:
    """A catlearn zip at ``path``, opened for reading with every entry's
    placement and compression checked (see the module docstring). Its methods
    raise :class:`FormatError` ending in ``fix``; other failures are those of
    :data:`READ_ERRORS`, for the caller to turn into a ``FormatError``."""

    def __init__(self, path: str, fix: str):
        self.path, self.fix = path, fix
        self._file = open(path, "rb")
        try:
            self._zip = zipfile.ZipFile(self._file)
            self.names = self._check_entries()
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> ZipReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._zip.close()
        self._file.close()

    def fail(self, what: str) -> FormatError:
        return FormatError(f"{self.path!r}: {what}. {self.fix}")

    def _check_entries(self) -> set[str]:
        infos = self._zip.infolist()
        names: set[str] = set()
        for info in infos:
            name = clip(info.filename, 100)
            if info.filename in names:
                raise self.fail(f"the zip holds two entries named {name!r}")
            names.add(info.filename)
            if info.flag_bits & 0x1:
                raise self.fail(f"entry {name!r} is encrypted, which catlearn never is")
            if info.compress_type != zipfile.ZIP_STORED:
                method = _METHODS.get(info.compress_type, info.compress_type)
                raise self.fail(
                    f"entry {name!r} is compressed ({method}), and catlearn reads "
                    "only the uncompressed entries it writes: a compressed entry's "
                    "size is known only once it is inflated (a few kilobytes can "
                    "inflate to gigabytes). If you compressed the file yourself, "
                    "unzip it and save it again with catlearn"
                )
            if info.compress_size != info.file_size:
                raise self.fail(
                    f"entry {name!r} is stored in {info.compress_size} bytes but "
                    f"says it holds {info.file_size}"
                )
        # each entry (a 30-byte local header, then its data) must end before the
        # next begins: no two entries share bytes, and together they hold at
        # most the file's size
        end = getattr(self._zip, "start_dir", None)
        ordered = sorted(infos, key=lambda i: i.header_offset)
        for info, nxt in zip(ordered, ordered[1:] + [None], strict=True):
            limit = nxt.header_offset if nxt is not None else end
            stop = info.header_offset + 30 + info.compress_size
            if info.header_offset < 0 or (limit is not None and stop > limit):
                raise self.fail(
                    f"entry {clip(info.filename, 100)!r} claims {info.file_size} "
                    "bytes, more than the file has room for there"
                )
        return names

    def json(self, name: str, allow_nan: bool = True) -> Any:
        """The JSON value of entry ``name`` (at most :data:`MAX_JSON_BYTES`)."""
        return loads(self.text(name), allow_nan)

    def text(self, name: str) -> str:
        """The UTF-8 text of entry ``name`` (at most :data:`MAX_JSON_BYTES`)."""
        info = self._zip.getinfo(name)
        if info.file_size > MAX_JSON_BYTES:
            raise self.fail(
                f"entry {name!r} is {info.file_size} bytes, more than the "
                f"{MAX_JSON_BYTES} bytes catlearn reads for a JSON entry "
                "(catlearn._zipfile.MAX_JSON_BYTES)"
            )
        return self._zip.read(info).decode("utf-8")

    def npy(self, name: str) -> tuple[np.dtype[Any], tuple[int, ...]]:
        """The dtype and shape that the ``.npy`` entry ``name`` declares, after
        checking that they are a dtype of :data:`DTYPES` and account for
        exactly the bytes the entry holds. Reads only the header."""
        info = self._zip.getinfo(name)
        with self._zip.open(info) as f:
            dtype, shape, _ = self._npy_header(f, info)
        return dtype, shape

    def array(self, name: str) -> np.ndarray:
        """The array of the ``.npy`` entry ``name``, checked as by :meth:`npy`
        before its data is read (into one buffer of the declared size)."""
        info = self._zip.getinfo(name)
        with self._zip.open(info) as f:
            dtype, shape, fortran = self._npy_header(f, info)
            nbytes = _nbytes(dtype, shape)
            buf = np.empty(nbytes, np.uint8)
            view, got = memoryview(buf), 0  # type: ignore[arg-type]
            while got < nbytes:
                chunk = f.read(min(_CHUNK, nbytes - got))
                if not chunk:
                    raise self.fail(f"entry {name!r} ends early (truncated)")
                view[got : got + len(chunk)] = chunk
                got += len(chunk)
            if f.read(1):  # also where zipfile checks the CRC
                raise self.fail(f"entry {name!r} has bytes after its array")
        if dtype == np.bool_ and nbytes and int(buf.max()) > 1:
            raise self.fail(f"entry {name!r}: a bool array holds bytes other than 0, 1")
        flat = buf.view(dtype)
        return flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)

    def _npy_header(
        self, f: Any, info: zipfile.ZipInfo
    ) -> tuple[np.dtype[Any], tuple[int, ...], bool]:
        name = clip(info.filename, 100)
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            read = np.lib.format.read_array_header_1_0
        elif version == (2, 0):
            read = np.lib.format.read_array_header_2_0
        else:
            raise self.fail(
                f"entry {name!r} is .npy format {version}, not 1.0 or 2.0 (what "
                "catlearn writes)"
            )
        shape, fortran, dtype = read(f, max_header_size=MAX_NPY_HEADER)
        if dtype.str not in DTYPES or np.dtype(dtype.str) != dtype:
            raise self.fail(
                f"entry {name!r} holds dtype {clip(str(dtype), 80)}, which catlearn "
                f"never writes (it writes {', '.join(DTYPES)})"
            )
        if not all(type(d) is int and d >= 0 for d in shape):
            raise self.fail(f"entry {name!r} has the shape {clip(shape, 80)}")
        data = info.file_size - f.tell()
        if _nbytes(dtype, shape) != data:
            raise self.fail(
                f"entry {name!r} holds {data} bytes of data, but its header "
                f"declares {dtype.str} {list(shape)} = {_nbytes(dtype, shape)} bytes"
            )
        return dtype, tuple(shape), bool(fortran)


def _nbytes(dtype: np.dtype[Any], shape: tuple[int, ...]) -> int:
    n = dtype.itemsize
    for d in shape:
        n *= d
    return n
