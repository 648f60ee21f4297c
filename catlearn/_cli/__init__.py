"""The ``catlearn`` command's implementation (``catlearn.cli`` is its face)."""

from ._app import build_parser as build_parser
from ._app import main as main
