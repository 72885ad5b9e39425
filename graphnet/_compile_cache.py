"""JAX's persistent compilation cache, on by default (issue 13, item 2).

A new process otherwise compiles every static program and every eager per-op kernel again:
seconds on a convnet's first call. On `import graphnet`, JAX's persistent cache is pointed at a
per-user directory (`$XDG_CACHE_HOME/graphnet/jax`, else `~/.cache/graphnet/jax`) and told to
keep every compile, however small or quick: with JAX's default 1 s threshold almost none of
graphnet's programs and none of its per-op kernels would be stored.

    GRAPHNET_COMPILE_CACHE=/some/dir   # the cache lives there instead
    GRAPHNET_COMPILE_CACHE=off         # (or 0) no persistent cache

>>> import graphnet
>>> graphnet.compile_cache_info()["enabled"]
True
>>> graphnet.set_compile_cache(None)          # off for the rest of this process

NOTE: only JAX config options are set here. Importing graphnet must not start JAX's backend
(graphnet.distributed.init has to run first), and nothing here touches a device.
A `jax_compilation_cache_dir` the user set before importing graphnet (jax.config.update or
JAX_COMPILATION_CACHE_DIR) is theirs: graphnet changes none of the cache's settings then.
"""

from __future__ import annotations

import os
import tempfile
import warnings

import jax

__all__ = ["set_compile_cache", "compile_cache_info"]

ENV = "GRAPHNET_COMPILE_CACHE"
_OFF = {"0", "off", "false", "no", "none"}
# Thresholds a user set through JAX's own environment variables are kept.
_THRESHOLDS = {
    "jax_persistent_cache_min_compile_time_secs": "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
    "jax_persistent_cache_min_entry_size_bytes": "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES",
}
_CACHE_SUFFIX = "-cache"   # JAX's LRUCache names an entry `<key>-cache` (and `<key>-atime`)

# Who chose the current setting, and why it is off when it is: compile_cache_info() says so.
_origin = {"source": "not set", "reason": None}


def default_cache_dir() -> str:
    """The per-user cache directory: `$XDG_CACHE_HOME/graphnet/jax` or `~/.cache/graphnet/jax`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "graphnet", "jax")


def set_compile_cache(path: str | os.PathLike | None) -> dict:
    """Move JAX's persistent compilation cache to `path`, or turn it off with None.

    Every compile is stored from then on (thresholds 0), in this process; programs already
    compiled stay in memory. Raises ValueError when `path` cannot be created or written.
    Returns compile_cache_info().

    >>> graphnet.set_compile_cache("/tmp/my-cache")   # doctest: +SKIP
    >>> graphnet.set_compile_cache(None)              # no persistent cache
    """
    if path is None:
        _disable("set_compile_cache(None)")
        return compile_cache_info()
    directory = os.path.abspath(os.path.expanduser(os.fspath(path)))
    problem = _unwritable(directory)
    if problem:
        raise ValueError(f"graphnet.set_compile_cache({os.fspath(path)!r}): {problem}. Pass a "
                         f"directory this user can create and write, or None to turn the "
                         f"cache off.")
    _enable(directory, "set_compile_cache")
    return compile_cache_info()


def compile_cache_info() -> dict:
    """Where JAX's persistent compilation cache is and what it holds.

    {"dir": str | None, "enabled": bool, "entries": int (stored programs), "bytes": int,
     "source": who chose the setting, "reason": why it is off (None when on)}

    >>> graphnet.compile_cache_info()["dir"]   # doctest: +SKIP
    '/home/me/.cache/graphnet/jax'
    """
    directory = jax.config.jax_compilation_cache_dir
    enabled = bool(directory) and bool(jax.config.jax_enable_compilation_cache)
    entries = size = 0
    if directory and os.path.isdir(directory):
        for entry in os.scandir(directory):
            if entry.is_file():
                size += entry.stat().st_size
                entries += entry.name.endswith(_CACHE_SUFFIX)
    reason = None if enabled else (_origin["reason"] or "jax_enable_compilation_cache is False")
    return {"dir": directory, "enabled": enabled, "entries": entries, "bytes": size,
            "source": _origin["source"], "reason": reason}


def install_default() -> None:
    """On import: the user's own JAX setting if any, else GRAPHNET_COMPILE_CACHE, else the
    per-user default. Never raises: a directory that cannot be written leaves the cache off."""
    if jax.config.jax_compilation_cache_dir:
        _origin.update(source="jax_compilation_cache_dir (set before importing graphnet)",
                       reason=None)
        return
    wanted = os.environ.get(ENV, "").strip()
    if wanted.lower() in _OFF:
        _origin.update(source=ENV, reason=f"{ENV}={wanted}")
        return
    directory = os.path.abspath(os.path.expanduser(wanted or default_cache_dir()))
    source = ENV if wanted else "graphnet default"
    problem = _unwritable(directory)
    if problem:
        _origin.update(source=source, reason=f"{directory}: {problem}")
        if wanted:   # NOTE: the user asked for this place; a silent fallback would hide it
            warnings.warn(f"graphnet: {ENV}={wanted!r}: {problem}; the persistent compile "
                          f"cache is off. Set {ENV} to a writable directory, or to off.",
                          stacklevel=3)
        return
    _enable(directory, source)


def _enable(directory: str, source: str) -> None:
    jax.config.update("jax_compilation_cache_dir", directory)
    for option, env in _THRESHOLDS.items():
        if env not in os.environ:
            jax.config.update(option, 0)
    _forget_jax_cache_choice()
    _origin.update(source=source, reason=None)


def _disable(source: str) -> None:
    jax.config.update("jax_compilation_cache_dir", None)
    _forget_jax_cache_choice()
    _origin.update(source=source, reason=source)


def _forget_jax_cache_choice() -> None:
    # NOTE: JAX decides on its first compile whether (and where) the persistent cache is used,
    # once per process; reset_cache makes it decide again on the next compile. It only drops
    # Python-side state, so it is safe before JAX's backend exists.
    from jax.experimental.compilation_cache import compilation_cache

    compilation_cache.reset_cache()


def _unwritable(directory: str) -> str | None:
    """Why `directory` cannot hold the cache (None when it can): created if missing, then
    written to, since permission bits alone do not say (read-only mounts, root)."""
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".graphnet-write-check-"):
            pass
    except OSError as error:
        return f"not a writable directory ({error.strerror or error})"
    return None
