"""The checks of :func:`catlearn.learn.optim.rda`'s arguments: each bad
value fails with an ``OptimiserError`` naming it and a fix, before any
training."""

from __future__ import annotations

from typing import Any

from .._errors import OptimiserError


def check_rda(flips: Any, min_votes: Any, margin: Any, credit: Any, layers: Any,
              explore: Any, accept: Any) -> None:
    """Raise ``OptimiserError`` for the first of ``rda``'s arguments that is
    not a value it takes."""
    if flips is not None and (
        isinstance(flips, bool) or not isinstance(flips, int) or flips < 1
    ):
        raise OptimiserError(
            f"rda: flips={flips!r} must be a positive int (bits flipped per "
            "parameter array and step) or None (every bit with enough votes). "
            "Fix: e.g. rda(flips=1)."
        )
    if isinstance(min_votes, bool) or not isinstance(min_votes, int) or min_votes < 0:
        raise OptimiserError(
            f"rda: min_votes={min_votes!r} must be an int >= 0 (the net votes a "
            "flip needs; 0 allows sideways moves). Fix: e.g. rda(min_votes=1)."
        )
    if not isinstance(margin, int | float) or not margin > 0:
        raise OptimiserError(
            f"rda: margin={margin!r} must be a number > 0 (a fraction of a class "
            "group's size; math.inf: every example votes). Fix: e.g. "
            "rda(margin=1/16)."
        )
    if credit not in ("pair", "all"):
        raise OptimiserError(
            f"rda: credit={credit!r} is not 'pair' (an example votes on its true "
            "class's group and its strongest rival's) or 'all' (on every group, "
            "the paper's rule). Fix: e.g. rda(credit='pair')."
        )
    if layers not in ("all", "one"):
        raise OptimiserError(
            f"rda: layers={layers!r} is not 'all' (every parameter array flips "
            "each step) or 'one' (one array, drawn at random). Fix: e.g. "
            "rda(layers='one')."
        )
    if isinstance(explore, bool) or not isinstance(explore, int | float) or not (
            0 <= explore <= 1) or (explore > 0 and flips is None):
        raise OptimiserError(
            f"rda: explore={explore!r} must be a probability in [0, 1] (of "
            "flipping random bits instead of the voted ones), with a flip "
            f"budget (flips={flips!r}). Fix: e.g. rda(flips=1, explore=0.5)."
        )
    if not isinstance(accept, bool):
        raise OptimiserError(
            f"rda: accept={accept!r} must be True or False. Fix: e.g. "
            "rda(accept=True)."
        )
