"""The ``catlearn`` command: ``demo``, ``train``, ``eval``, ``export``, ``laws``
and ``draw`` (``catlearn --help``; the user guide is ``docs/cli.md``).

``main(argv)`` runs it in-process and returns the exit status: 0 on success,
2 for bad usage (one line on stderr, no usage dump), 1 for any other error
(one line; ``CATLEARN_DEBUG=1`` re-raises it for a traceback). Its own
errors are :class:`catlearn.CatlearnError` subclasses too:
:class:`UsageError` (status 2) and :class:`CommandError` (status 1).

>>> from catlearn.cli import main
>>> main(["--version"])
catlearn 0.1.0
0
>>> main(["draw", "--model", "cnn:3", "cnn.png"])
2
"""

from ._cli import main as main
from ._errors import CommandError as CommandError
from ._errors import UsageError as UsageError

__all__ = ["CommandError", "UsageError", "main"]
