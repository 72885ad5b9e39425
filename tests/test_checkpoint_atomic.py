"""Atomic saves: through symlinks, after a writer was killed, and errors that name the checkpoint."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import graphnet
from graphnet import _serialization as ser
from graphnet._serialization import _atomic, _format

OLD = np.array([1.0, 2.0], np.float32)
NEW = np.array([3.0, 4.0, 5.0], np.float32)


def save(array: np.ndarray, path) -> None:
    graphnet.save({"w": ser._from_numpy(array)}, path)


def loaded(path) -> np.ndarray:
    return ser._to_numpy(graphnet.load(path)["w"])


def test_save_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    (tmp_path / "latest").mkdir()
    target, link = tmp_path / "runs" / "step100.safetensors", tmp_path / "latest" / "ckpt"
    save(OLD, target)
    link.symlink_to(os.path.relpath(target, link.parent))
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (renames.append((a, b)), real_replace(a, b)))
    save(NEW, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "runs", "step100.safetensors")
    np.testing.assert_array_equal(loaded(target), NEW)
    # The temp file lived beside the target (same filesystem), and was renamed onto it.
    ((temp, renamed_to),) = renames
    assert os.path.dirname(temp) == str(tmp_path / "runs") and renamed_to == str(target)
    assert sorted(os.listdir(tmp_path / "runs")) == ["step100.safetensors"]
    assert os.listdir(tmp_path / "latest") == ["ckpt"]


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "ckpt"
    link.symlink_to("real.safetensors")
    save(NEW, link)
    assert link.is_symlink() and (tmp_path / "real.safetensors").is_file()
    np.testing.assert_array_equal(loaded(tmp_path / "real.safetensors"), NEW)


def test_symlink_loop_is_an_error_naming_the_path(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match=f"{tmp_path / 'a'}") as info:
        save(NEW, tmp_path / "a")
    assert info.value.errno == errno.ELOOP and info.value.filename == str(tmp_path / "a")


WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import graphnet
    from graphnet._serialization import _format
    real_write = _format._write_tensor_bytes

    def write_then_hang(f, data):  # half the checkpoint is on disk when the kill comes
        real_write(f, data)
        f.flush()
        print("writing", flush=True)
        time.sleep(600)

    _format._write_tensor_bytes = write_then_hang
    big = graphnet.from_numpy(np.ones(4 << 20, np.float32))
    graphnet.save({"big": big, "w": graphnet.from_numpy(np.zeros(2, np.float32))}, sys.argv[1])
""")


def test_a_killed_save_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save(OLD, path)
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline() == "writing\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    (temp,) = [n for n in os.listdir(tmp_path) if n != path.name]
    assert temp.startswith(f".ckpt.safetensors.{child.pid}.{_atomic.HOST_TAG}.")
    assert temp.endswith(".tmp") and (tmp_path / temp).stat().st_size > 16 << 20
    np.testing.assert_array_equal(loaded(path), OLD)  # the kill did not touch the old file
    save(NEW, path)
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    np.testing.assert_array_equal(loaded(path), NEW)


def test_cleanup_removes_only_dead_writers_temps_of_this_checkpoint_on_this_host(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        def temp(pid, host=_atomic.HOST_TAG, base="ckpt.safetensors"):
            name = _atomic.temp_name(base, pid, host, "0badf00d")
            (tmp_path / name).write_bytes(b"partial")
            return name

        stale = temp(dead.pid)
        kept = [temp(alive.pid), temp(os.getpid()),  # live writers, one of them us
                temp(dead.pid, host="ffffffff" if _atomic.HOST_TAG != "ffffffff" else "00000000"),
                temp(dead.pid, base="other.safetensors"),  # another checkpoint's
                ".ckpt.safetensors.0badf00d.tmp",  # older graphnet's name: no pid, kept
                f".ckpt.safetensors.{dead.pid}.{_atomic.HOST_TAG}.nothex!.tmp"]
        for name in kept[-2:]:
            (tmp_path / name).write_bytes(b"partial")
        save(NEW, tmp_path / "ckpt.safetensors")
        assert sorted(os.listdir(tmp_path)) == sorted([*kept, "ckpt.safetensors"])
        assert stale not in os.listdir(tmp_path)
    finally:
        alive.kill()
        alive.wait()


def test_disk_full_names_the_checkpoint_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save(OLD, path)

    def disk_full(f, data):
        raise OSError(errno.ENOSPC, "No space left on device", f.name)  # as the OS reports it

    monkeypatch.setattr(_format, "_write_tensor_bytes", disk_full)
    with pytest.raises(OSError) as info:
        save(NEW, path)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert str(path) in str(info.value) and ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    np.testing.assert_array_equal(loaded(path), OLD)


def test_missing_directory_names_the_checkpoint(tmp_path):
    path = tmp_path / "no" / "such" / "ckpt.safetensors"
    with pytest.raises(FileNotFoundError, match="could not write the checkpoint") as info:
        save(NEW, path)
    assert info.value.filename == str(path) and ".tmp" not in str(info.value)


def test_permission_denied_names_the_checkpoint(tmp_path, monkeypatch):
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # root ignores directory permissions
        real_open = os.open
        monkeypatch.setattr(os, "open", lambda p, *a: _refuse(p) if p.endswith(".tmp")
                            else real_open(p, *a))
    else:
        os.chmod(tmp_path, 0o500)
    try:
        with pytest.raises(PermissionError) as info:
            save(NEW, tmp_path / "ckpt.safetensors")
    finally:
        os.chmod(tmp_path, 0o700)
    assert info.value.filename == str(tmp_path / "ckpt.safetensors")
    assert ".tmp" not in str(info.value)


def _refuse(path: str):
    raise PermissionError(errno.EACCES, "Permission denied", path)
