"""XLA_FLAGS for the subprocesses tests start with simulated CPU devices."""

import os


def with_devices(devices: int) -> str:
    """The suite's own XLA flags (tests/conftest.py: LLVM level 0 and the legacy fusion
    emitters, which compile a cold multi-device check in a third of the time) plus
    `devices` simulated CPU devices. Replacing XLA_FLAGS instead would drop those flags."""
    flags = os.environ.get("XLA_FLAGS", "")
    return f"{flags} --xla_force_host_platform_device_count={devices}".strip()
