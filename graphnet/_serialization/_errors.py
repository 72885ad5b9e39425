"""The one error type graphnet.load raises for files it will not read."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A file given to ``graphnet.load`` is damaged, foreign, or unsafe to read.

    The message names the file, says what is wrong with it and what to do.
    It subclasses ValueError because the problem is the file's content, not the call.

    Example::

        try:
            state = graphnet.load("model.safetensors")
        except graphnet.CheckpointError as e:
            print(e)  # cannot load 'model.safetensors': the file is truncated ...
    """


def checkpoint_error(where: str, problem: str, fix: str) -> CheckpointError:
    """Build a CheckpointError with the house message layout: file, problem, fix."""
    return CheckpointError(f"cannot load {where!r}: {problem}. {fix}")
