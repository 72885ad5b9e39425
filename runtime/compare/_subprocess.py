"""Running a measuring probe in a fresh Python process (JAX settings such as the host device
count or the compilation cache directory take effect only before JAX starts)."""

from __future__ import annotations

import json
import subprocess


def run_json_probe(command: list, env: dict, what: str, timeout: float = 600) -> dict:
    """Run `command` with `env`; the JSON object on its last line of output. A failure
    raises, naming `what` and the command to rerun by hand, with the end of its stderr."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed (exit {done.returncode}); run `{' '.join(command)}`"
                           f" to see why:\n{done.stderr[-2000:]}")
    return json.loads(lines[-1])
