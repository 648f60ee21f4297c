"""Writing catlearn's zip files (saved models, checkpoints) atomically, and
cleaning up after writers that were killed.

A write fills a temporary file in the target's directory, ``fsync``-s it and
renames it over the target, so a crash at any point leaves the previous file
intact; temporary files that a killed writer left behind are removed by the
next write of (or resume from) the same file.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable
from typing import Any

from ._zipfile import SaveError, as_path

# A temporary file of a write whose writer is gone is removed by the next
# write of the same file: at once if its writer's pid (in its name) is dead on
# this machine, else once it has not changed for this long.
STALE_SECONDS = 3600
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def check_target(path: Any) -> str:
    """``path`` as a str if a file can be written there, else
    :class:`SaveError`: not a path, its directory missing, a directory."""
    path = as_path(path, SaveError, "cannot write")
    if path.endswith(os.sep) or (os.altsep and path.endswith(os.altsep)):
        raise SaveError(
            f"cannot write {path!r}: it ends in a separator, so it names a "
            "directory. Fix: give a file path, e.g. "
            f"{os.path.join(path, 'model.catlearn')!r}."
        )
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
    return path


def write_zip_atomic(path: Any, write: Callable[[zipfile.ZipFile], None]) -> None:
    """Write a zip file at ``path`` atomically: ``write`` fills a temporary file
    in the same directory, which is ``fsync``-ed and then renamed over ``path``
    (``os.replace``). A crash at any point leaves the previous file intact.

    The temporary file is ``.<name>.<host>-<pid>.<random>.tmp``; after the
    rename, those of the same ``path`` left by writers that died (``kill
    -9``) are removed (:func:`remove_stale_temps`)."""
    path = check_target(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(
            dir=directory, prefix=_temp_prefix(path), suffix=".tmp"
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
    remove_stale_temps(path)


def _temp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}.{_HOST}-{os.getpid()}."


def remove_stale_temps(path: str) -> list[str]:
    """Remove the temporary files that writes of ``path`` left behind when
    their process died; return their names. A temporary file of ``path`` (and
    of no other file: the name must match exactly) is stale if the process
    that wrote it, named in it, is dead on this machine, or -- whatever wrote
    it (another machine on a shared disk, an older catlearn) -- if it has not
    changed for :data:`STALE_SECONDS`. A file that another live process is
    writing is never removed."""
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(
        re.escape(f".{os.path.basename(path)}.")
        + r"(?:([0-9a-f]{8})-([0-9]{1,10})\.)?[a-z0-9_]{8}\.tmp"
    )
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed, now = [], time.time()
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        full = os.path.join(directory, name)
        try:
            info = os.lstat(full)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        host, pid = match.group(1), match.group(2)
        dead = host == _HOST and pid is not None and not _alive(int(pid))
        if dead or now - info.st_mtime > STALE_SECONDS:
            try:
                os.remove(full)
            except OSError:
                continue
            removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` may be running here (unsure: yes)."""
    if pid == os.getpid() or os.name != "posix":  # Windows' kill(pid, 0) kills
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # e.g. PermissionError: it exists
        return True
    return True


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
