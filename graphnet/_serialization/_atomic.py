"""Replace a file so that readers see either the old content or the new, never a mix.

The new content goes to a temp file beside the target, named
``.<name>.<pid>.<host>.<random>.tmp`` (host: 8 hex digits of the hostname's SHA-256), and is
renamed over the target once it is on disk. A writer killed outright (SIGKILL, power loss)
cannot delete its temp file, so each save first removes the temp files that dead writers
left for the same target: same host, and a pid that no longer runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
import stat
from collections.abc import Callable
from typing import BinaryIO

# NOTE: the host is part of the name because a pid means nothing on another machine: on a
# shared filesystem a pid that is dead here may be a live writer there.
HOST_TAG = hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:8]


def temp_name(base: str, pid: int, host: str, token: str) -> str:
    return f".{base}.{pid}.{host}.{token}.tmp"


def write_atomically(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Run ``write`` on a temp file beside ``path``, make it durable, then rename it over ``path``.

    A symlink at ``path`` stays a link: its target is what gets replaced. If anything raises
    (including KeyboardInterrupt), the old target is untouched and the temp file is removed.
    An OSError names ``path``, never the temp file, and keeps its type (PermissionError...).
    """
    temp = None
    try:
        target = _resolve(path)
        remove_stale_temps(target)
        fd, temp = _create_temp_beside(target)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # data on disk before the rename makes it visible
        with contextlib.suppress(FileNotFoundError):
            # Keep permissions the user gave the previous checkpoint.
            os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temp, target)
        temp = None
        _fsync_directory(os.path.dirname(target) or ".")
    except OSError as e:
        raise _naming(path, e) from e
    finally:
        if temp is not None:  # it failed (or was interrupted) before the rename
            with contextlib.suppress(OSError):
                os.unlink(temp)


def _resolve(path: str) -> str:
    """The file a save to ``path`` replaces: symlinks followed, so the link itself survives."""
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:  # a new checkpoint, or a link to one not written yet
        return os.path.realpath(path)


def _create_temp_beside(target: str) -> tuple[int, str]:
    """Create an empty temp file in ``target``'s directory (same filesystem: rename is atomic)."""
    directory, base = os.path.split(target)
    for _ in range(100):
        temp = os.path.join(directory, temp_name(base, os.getpid(), HOST_TAG, secrets.token_hex(4)))
        try:
            # NOTE: mode 0o666 lets the umask decide permissions, like a plain open() would;
            # tempfile.mkstemp would leave every checkpoint readable only by its owner.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temp file next to {target!r}")


def remove_stale_temps(target: str) -> list[str]:
    """Delete temp files of earlier saves to ``target`` whose writer is dead; return their names.

    Best effort: a save never fails because of this. Only names in our exact format, from
    this host, with a pid that is not running are touched; anything else stays.
    """
    directory, base = os.path.split(target)
    pattern = re.compile(re.escape(f".{base}.") + r"(\d+)\.([0-9a-f]{8})\.[0-9a-f]{8}\.tmp")
    removed = []
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return removed
    for name in names:
        match = pattern.fullmatch(name)
        if match and match[2] == HOST_TAG and not _is_running(int(match[1])):
            with contextlib.suppress(OSError):  # another save may have removed it first
                os.unlink(os.path.join(directory, name))
                removed.append(name)
    return removed


def _is_running(pid: int) -> bool:
    """False only if ``pid`` certainly names no process; every doubt counts as running."""
    if os.name != "posix" or pid <= 0:  # NOTE: on Windows os.kill(pid, 0) would kill it
        return True
    try:
        os.kill(pid, 0)  # signal 0: existence check, nothing is sent
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: it runs as another user
        return True
    return True


def _naming(path: str, error: OSError) -> OSError:
    """The same kind of OSError, naming the checkpoint the user asked for."""
    if error.errno is None:
        return OSError(f"graphnet.save could not write {path!r}: {error}")
    # OSError(errno, ...) builds the matching subclass: PermissionError, FileNotFoundError...
    reason = error.strerror or os.strerror(error.errno)
    return OSError(error.errno, f"{reason} (graphnet.save could not write the checkpoint)", path)


def _fsync_directory(directory: str) -> None:
    """Persist the rename itself; POSIX only (Windows cannot open directories)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
