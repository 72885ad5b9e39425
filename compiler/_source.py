"""Find the user's source line: the innermost stack frame outside graphnet's own packages."""

from __future__ import annotations

import os
import sys

import graphnet

_OWN = tuple(os.path.dirname(os.path.abspath(p)) + os.sep for p in (
    graphnet.__file__, os.path.join(os.path.dirname(__file__), "__init__.py"),
    os.path.join(os.path.dirname(os.path.dirname(__file__)), "runtime", "__init__.py")))


def user_frame(with_code: bool = False) -> str:
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_OWN) and "/jax/" not in filename \
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
