"""catlearn's release number, in one place: ``pyproject.toml`` reads it from
here (``dynamic = ["version"]``), ``catlearn.__version__`` re-exports it, and
modules that record it (saved files, ``catlearn --version``) import it from
here rather than from the package root."""

__version__ = "0.1.0"
