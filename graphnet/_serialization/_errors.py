"""The one error type graphnet.load raises for files it will not read."""

from __future__ import annotations

import pickle


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


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A torch file whose pickle names an object graphnet will not build. It is also a
    pickle.UnpicklingError, what torch.load(weights_only=True) raises for such a file, so an
    `except pickle.UnpicklingError` written for torch catches it too."""


def checkpoint_error(where: str, problem: str, fix: str,
                     kind: type[CheckpointError] = CheckpointError) -> CheckpointError:
    """Build a CheckpointError with the house message layout: file, problem, fix."""
    return kind(f"cannot load {where!r}: {problem}. {fix}")
