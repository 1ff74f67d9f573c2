"""Start a culturesim command in a child process and SIGKILL it once it has made some progress."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable


def kill_after_progress(args: list[str], progressed: Callable[[], bool], timeout_s: float = 600) -> None:
    """Run `culturesim ARGS`; kill it (no clean-up possible) as soon as `progressed()` is true."""
    command = [sys.executable, "-m", "simulator.cli", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy()
    )
    try:
        deadline = time.monotonic() + timeout_s
        while not progressed() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert process.poll() is None, (
            f"the command ended before it could be killed: {process.stderr.read()!r}"
        )
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
