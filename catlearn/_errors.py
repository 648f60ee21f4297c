"""catlearn's exceptions: one root, one subclass per kind of mistake.

Every message names the offending object, both sides of a mismatch, and the fix.
"""

from __future__ import annotations

from typing import Any

from discopy.utils import AxiomError


class CatlearnError(Exception):
    """Root of every error catlearn raises on bad input."""


class CompositionError(CatlearnError, AxiomError):
    """Two diagrams do not compose: the codomain of one is not the domain of the
    other. Also an ``AxiomError``, so DisCoPy code that catches those still works.
    """


class TypeSpecError(CatlearnError, ValueError):
    """A wire type was asked for with an invalid shape or size."""


class ParamError(CatlearnError, KeyError):
    """A parameter dict is missing a name, has a wrong shape, or two parameters
    share a name with different types."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ShapeError(CatlearnError, ValueError):
    """A batch does not match the type of the wire it is fed to."""


class MissingRuleError(CatlearnError, KeyError):
    """A functor has no rule for a generator of the diagram it compiles."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SemanticsError(CatlearnError, TypeError):
    """A functor cannot interpret a wire type (e.g. a real wire under Boolean)."""


class DatasetError(CatlearnError, ValueError):
    """A data set or split was asked for with invalid arguments."""


class OptimiserError(CatlearnError, ValueError):
    """An optimiser was built with invalid settings."""


class BackendError(CatlearnError, RuntimeError):
    """A kernel backend cannot run here: no C compiler for the fused CPU kernel,
    no GPU for a Triton kernel, or a block size that does not fit."""


class BackendWarning(UserWarning):
    """A kernel backend was replaced by a slower one that runs here (the fused
    CPU kernel by XLA); the message says why, and the fix."""


class CheckpointError(CatlearnError, ValueError):
    """A checkpoint cannot continue this training run: it was written by a run
    with another diagram, data, optimiser or settings."""


class NonFiniteError(CatlearnError, FloatingPointError):
    """Training produced a nan or inf. ``params`` / ``opt_state`` are the last
    finite ones (before the faulty step), ``history`` the finished epochs."""

    def __init__(
        self,
        message: str,
        params: Any = None,
        opt_state: Any = None,
        history: Any = None,
    ):
        super().__init__(message)
        self.params, self.opt_state, self.history = params, opt_state, history


# Errors of the file format (``catlearn.io``), the circuit export
# (``catlearn.export``), the law checkers (``catlearn.testing``) and the
# command line. Their ``__module__`` is where users meet them, so tracebacks
# read ``catlearn.io.FormatError`` as they always have.


class FormatError(CatlearnError, ValueError):
    """A file or JSON text is not a valid catlearn save (truncated, corrupted,
    mismatched), or a value cannot be written in the format."""

    __module__ = "catlearn.io"


class VersionError(FormatError):
    """A save file has a format version this catlearn cannot read."""

    __module__ = "catlearn.io"


class MissingFileError(CatlearnError, FileNotFoundError):
    """A save file to load does not exist."""

    __module__ = "catlearn.io"


class SaveError(CatlearnError, OSError):
    """A file cannot be written there: its directory does not exist, the path
    is a directory, or the system refused the write."""

    __module__ = "catlearn.io"


class ExportError(CatlearnError, ValueError):
    """A diagram cannot be exported as a circuit (a generator with no gate
    reading, a learned table that is not a constant, an unknown format, a
    module name that is not an identifier, a path that cannot be written)."""

    __module__ = "catlearn.export"


class LawError(CatlearnError):
    """A law fails: the message names the law, the diagrams it was checked on,
    where the two sides differ and by how much."""

    __module__ = "catlearn.testing"


class CoverageError(LawError):
    """A rule of the functor's table is never drawn: no generator of the
    signature uses it, so no law would check it."""

    __module__ = "catlearn.testing"


class SettingsWarning(UserWarning):
    """Part of a run's optimiser (or of the rules added to its semantics)
    cannot be read, so resuming from a checkpoint cannot check that it is
    unchanged (``docs/training.md``: what a resume cannot see)."""

    __module__ = "catlearn.learn.optim"


class UsageError(CatlearnError, ValueError):
    """A bad flag, value or config key of the ``catlearn`` command: one line,
    exit status 2."""

    __module__ = "catlearn.cli"


class CommandError(CatlearnError, RuntimeError):
    """The ``catlearn`` command cannot go on (exit status 1), e.g. a missing
    feature."""

    __module__ = "catlearn.cli"
