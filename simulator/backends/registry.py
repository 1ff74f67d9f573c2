"""Create a backend by kind name: `transformers` (default), `vllm`, `openai`."""

from __future__ import annotations

from typing import Any

from personas.files import BadInputError
from simulator.backends.base import Backend

BACKEND_KINDS = ("transformers", "vllm", "openai")


def create_backend(kind: str = "transformers", model: str | None = None, **options: Any) -> Backend:
    """`model` None means the embedded SmolLM2-135M-Instruct (transformers) or the server's model.

    Options by kind: transformers: dtype ('auto'|'bfloat16'|'float32'), adapter (LoRA dir),
    max_batch_size,
    threads (CPU; default: the idle cores); vllm: adapter, gpu_memory_utilization, tensor_parallel_size;
    openai: base_url, api_key, max_concurrency.
    """
    if kind == "transformers":
        from simulator.backends.transformers_backend import TransformersBackend

        return TransformersBackend(model=model, **options)
    if kind == "vllm":
        from simulator.backends.vllm_backend import VLLMBackend

        return VLLMBackend(model=model, **options)
    if kind == "openai":
        from simulator.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(model=model, **options)
    raise BadInputError("--backend", f"unknown backend '{kind}' (choose from {', '.join(BACKEND_KINDS)})")
