"""Find the user's source line: the innermost stack frame outside graphnet's own packages."""

from __future__ import annotations

import importlib.util
import os
import sys

import graphnet

# graphnet, graphnet.compiler and graphnet.runtime: three folders in a checkout (the
# compiler and runtime install inside graphnet, see pyproject.toml), found from their modules.
OWN = tuple(os.path.dirname(os.path.abspath(p)) + os.sep for p in (
    graphnet.__file__, __file__, importlib.util.find_spec("graphnet.runtime").origin))


def user_frame(with_code: bool = False) -> str:
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(OWN) and "/jax/" not in filename \
                and not filename.startswith("<frozen"):
            where = f"{os.path.relpath(filename) if not filename.startswith('<') else filename}" \
                    f":{frame.f_lineno}"
            if with_code:
                import linecache

                code = linecache.getline(filename, frame.f_lineno).strip()
                return f"{where} in {frame.f_code.co_name}: `{code}`" if code else where
            return where
        frame = frame.f_back
    return ""
