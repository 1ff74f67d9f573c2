"""A real OpenAI-compatible server for the `openai` backend tests.

llama-cpp-python's `python -m llama_cpp.server` serves the embedded SmolLM2 GGUF on 127.0.0.1.
Install it with `pip install -e .[server]` (builds llama.cpp from source, ~5 min). The tests that
need it skip, with the reason, only where `llama_cpp.server` cannot be imported.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SERVER_START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _llama_server_missing() -> str | None:
    try:
        if importlib.util.find_spec("llama_cpp.server") is None:
            return "llama_cpp.server is not installed (pip install -e .[server])"
    except (ImportError, OSError) as exc:  # llama_cpp present but its native library does not load
        return f"llama_cpp cannot be imported: {exc}"
    return None


def _wait_until_ready(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with code {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(
        f"llama_cpp.server did not answer within {SERVER_START_TIMEOUT_S:.0f} s:\n{log.read_text()[-2000:]}"
    )


@pytest.fixture(scope="session")
def llama_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (`http://127.0.0.1:PORT/v1`) of a llama_cpp.server serving the embedded GGUF."""
    reason = _llama_server_missing()
    if reason:
        pytest.skip(reason)
    from simulator.backends.embedded import embedded_gguf_path

    port = _free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf_path())]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    command += ["--n_threads", str(os.cpu_count() or 1), "--verbose", "False"]
    with open(log, "w") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_ready(process, url, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
