"""Replace a file so that readers see either the old content or the new, never a mix."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from typing import BinaryIO


def _create_temp_beside(path: str) -> tuple[int, str]:
    """Create an empty temp file in ``path``'s directory (same filesystem, so rename is atomic)."""
    directory, base = os.path.split(path)
    for _ in range(100):
        temp = os.path.join(directory, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            # NOTE: mode 0o666 lets the umask decide permissions, like a plain open() would;
            # tempfile.mkstemp would leave every checkpoint readable only by its owner.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"graphnet.save: could not create a temp file next to {path!r}")


def write_atomically(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Run ``write`` on a temp file beside ``path``, make it durable, then rename it over ``path``.

    If anything raises (including KeyboardInterrupt), ``path`` is untouched and the temp
    file is removed.
    """
    fd, temp = _create_temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # data on disk before the rename makes it visible
        with contextlib.suppress(FileNotFoundError):
            # Keep permissions the user gave the previous checkpoint.
            os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_directory(os.path.dirname(path) or ".")


def _fsync_directory(directory: str) -> None:
    """Persist the rename itself; POSIX only (Windows cannot open directories)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
