"""The compiler and runtime folders install inside graphnet (pyproject.toml's package-dir
mapping): `graphnet.compiler` and `graphnet.runtime`, never top-level `compiler` or `runtime`
packages in the user's site-packages."""

import os
import subprocess
import sys

import graphnet.compiler
import graphnet.runtime

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_compiler_and_runtime_are_graphnet_subpackages():
    assert graphnet.compiler.__name__ == "graphnet.compiler"
    assert graphnet.runtime.__name__ == "graphnet.runtime"
    assert graphnet.compiler.__file__ == os.path.join(REPO, "compiler", "__init__.py")
    assert graphnet.runtime.__file__ == os.path.join(REPO, "runtime", "__init__.py")


def test_no_top_level_compiler_or_runtime_is_installed(tmp_path):
    probe = ("import importlib.util, os, sys\n"
             "for name in ('compiler', 'runtime'):\n"
             "    spec = importlib.util.find_spec(name)\n"
             "    origin = spec.origin if spec else ''\n"
             "    print(name, origin.startswith(sys.argv[1] + os.sep))\n")
    out = subprocess.run([sys.executable, "-c", probe, REPO], cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == ["compiler", "False", "runtime", "False"]


def test_graphnet_modules_never_import_top_level_names():
    loaded = [name for name in sys.modules if name.split(".")[0] in ("compiler", "runtime")]
    assert loaded == []
