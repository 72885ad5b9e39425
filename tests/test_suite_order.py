"""The suite's own scheduling (tests/conftest.py): the heaviest files are collected first, so
xdist's loadfile scheduling ends a run on short files. A renamed file would silently fall back
to its alphabetical place, so every name in the list must still exist."""

import os

import conftest

HERE = os.path.dirname(os.path.abspath(__file__))


def test_every_heavy_file_exists_and_is_listed_once():
    assert len(set(conftest.HEAVY_FIRST)) == len(conftest.HEAVY_FIRST)
    missing = [name for name in conftest.HEAVY_FIRST
               if not os.path.exists(os.path.join(HERE, name))]
    assert missing == []


def test_heavy_files_are_collected_first(request):
    files = []
    for item in request.session.items:
        if not files or files[-1] != item.path.name:
            files.append(item.path.name)
    heavy = [name for name in files if name in conftest.HEAVY_FIRST]
    assert files[:len(heavy)] == heavy
    assert heavy == [name for name in conftest.HEAVY_FIRST if name in heavy]
