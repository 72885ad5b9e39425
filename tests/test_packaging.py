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


def test_every_package_folder_is_listed_for_the_wheel():
    """pyproject.toml lists packages by hand (the package-dir mapping needs it): a folder
    missing there installs fine in editable mode and is absent from a wheel."""
    import tomllib

    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    roots = {"graphnet": "graphnet", "compiler": "graphnet.compiler",
             "runtime": "graphnet.runtime"}
    found = set()
    for folder, name in roots.items():
        for here, _, files in os.walk(os.path.join(REPO, folder)):
            if "__init__.py" in files and "__pycache__" not in here:
                rel = os.path.relpath(here, os.path.join(REPO, folder))
                found.add(name if rel == "." else f"{name}.{rel.replace(os.sep, '.')}")
    assert found - listed == set(), f"add to pyproject.toml's packages: {sorted(found - listed)}"
