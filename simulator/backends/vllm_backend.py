"""vLLM in process (`vllm.LLM`): GPU only, installed with the `vllm` extra.

- generate: one `llm.chat` call for the whole list; vLLM batches continuously, and prefix caching
  reuses the KV blocks of a conversation's earlier turns (each prompt extends the previous one).
- score_options: log P(option | prompt) from prompt log-probabilities: `prompt + option` is
  tokenized, run with `SamplingParams(max_tokens=1, prompt_logprobs=0)` (the log-probability of
  each prompt token itself), and the option's tokens are summed. All options of all requests go
  in one call.
- choose: guided decoding with `StructuredOutputsParams(choice=options)` (vLLM >= 0.12; the old
  `guided_*` fields are silently ignored there), for picking an option rather than weighing it.
- LoRA: `adapter` is served through `LoRARequest` (`enable_lora=True`).
Calls into the engine run in a worker thread, one at a time (`vllm.LLM` is not thread-safe).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from personas.files import BadInputError
from simulator.backends.base import (
    Backend,
    ChatMessage,
    Generation,
    GenerationRequest,
    OptionScores,
    OptionScoringRequest,
    SamplingParams,
)


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise BadInputError(
            "--backend vllm",
            "vllm is not installed: install the vllm extra on a CUDA machine (pip install -e .[vllm])",
        ) from None
    return vllm


def sampling_kwargs(params: SamplingParams) -> dict[str, Any]:
    """Our sampling parameters as `vllm.SamplingParams` keyword arguments."""
    kwargs: dict[str, Any] = {
        "max_tokens": params.max_new_tokens,
        "temperature": 0.0 if params.greedy else params.temperature,
        "top_p": 1.0 if params.greedy else params.top_p,
        "seed": params.seed,
    }
    if params.stop:
        kwargs["stop"] = list(params.stop)
    return kwargs


def option_token_start(prefix_ids: Sequence[int], full_ids: Sequence[int]) -> int:
    """Index of the first token of `full_ids` (prefix + option) that belongs to the option.

    Where tokenization merges the prefix's last characters into the option's first token, the
    sequences part earlier and that merged token counts as the option's. The first token of a
    prompt has no log-probability, so the option starts at index 1 at the earliest.
    """
    common = 0
    for a, b in zip(prefix_ids, full_ids):
        if a != b:
            break
        common += 1
    if common >= len(full_ids):
        raise ValueError("the option adds no tokens to the prompt")
    return max(common, 1)


def sum_prompt_logprobs(
    prompt_logprobs: Sequence[Mapping[int, Any] | None], token_ids: Sequence[int], start: int
) -> float:
    """Sum of log P(token_i | tokens_<i) for i >= start, from vLLM's `RequestOutput.prompt_logprobs`.

    Each position maps token id -> Logprob (with `.logprob`); with `prompt_logprobs=0` it holds just
    the prompt's own token (vLLM adds the sampled top-k when asked for more).
    """
    total = 0.0
    for position in range(start, len(token_ids)):
        entry = prompt_logprobs[position]
        if entry is None or token_ids[position] not in entry:
            raise ValueError(f"vLLM returned no log-probability for prompt token {position}")
        total += float(entry[token_ids[position]].logprob)
    return total


def choice_index(text: str, options: Sequence[str]) -> int | None:
    """Which option a guided-choice generation produced (None when it produced none of them)."""
    if text in options:
        return options.index(text)
    stripped = text.strip()
    matches = [i for i, option in enumerate(options) if option.strip() == stripped]
    return matches[0] if matches else None


class VLLMBackend(Backend):
    """A Hugging Face causal LM served by vLLM in this process, optionally with a LoRA adapter."""

    name = "vllm"

    def __init__(
        self,
        model: str | None = None,
        adapter: str | None = None,
        gpu_memory_utilization: float = 0.85,
        tensor_parallel_size: int = 1,
        max_model_len: int = 4096,
        max_lora_rank: int = 64,
        dtype: str = "auto",
        seed: int = 0,
        **engine_options: Any,
    ):
        """`model` None serves the embedded SmolLM2 (its converted Hugging Face directory)."""
        vllm = import_vllm()
        if model is None:
            from simulator.backends.embedded import embedded_model_dir

            model = str(embedded_model_dir())
        lora_options = {"enable_lora": True, "max_lora_rank": max_lora_rank} if adapter else {}
        llm = vllm.LLM(
            model=model,
            enable_prefix_caching=True,
            gpu_memory_utilization=gpu_memory_utilization,
            tensor_parallel_size=tensor_parallel_size,
            max_model_len=max_model_len,
            dtype=dtype,
            seed=seed,
            **lora_options,
            **engine_options,
        )
        lora = None
        if adapter:
            from vllm.lora.request import LoRARequest

            lora = LoRARequest("adapter", 1, adapter)
        self._attach(llm, vllm, model, adapter, lora)

    @classmethod
    def from_engine(
        cls, llm: Any, model_id: str, vllm_module: Any = None, lora_request: Any = None
    ) -> VLLMBackend:
        """Wrap an existing `vllm.LLM` (e.g. one a notebook or the evaluation already holds)."""
        backend = cls.__new__(cls)
        adapter = getattr(lora_request, "lora_path", None)
        backend._attach(llm, vllm_module or import_vllm(), model_id, adapter, lora_request)
        return backend

    def _attach(self, llm: Any, vllm: Any, model: str, adapter: str | None, lora: Any) -> None:
        self.llm = llm
        self.tokenizer = llm.get_tokenizer()
        self._vllm = vllm
        self._model = model
        self._adapter = adapter
        self._lora = lora
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._model

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self._model,
            "adapter": self._adapter,
            "vllm_version": getattr(self._vllm, "__version__", "unknown"),
        }

    def preferred_batch_size(self) -> int:
        return 256  # vLLM schedules its own batches; hand it large lists

    def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return getattr(self.llm, method)(*args, use_tqdm=False, lora_request=self._lora, **kwargs)

    def render(self, messages: Sequence[ChatMessage], assistant_prefix: str = "") -> str:
        text = self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
        return text + assistant_prefix

    def _token_ids(self, text: str) -> list[int]:
        # The rendered template already holds its special tokens (BOS included where the model uses it).
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # ----------------------------------------------------------------- generation

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        if not requests:
            return []
        params = [self._vllm.SamplingParams(**sampling_kwargs(r.params)) for r in requests]
        conversations = [list(r.messages) for r in requests]
        outputs = await asyncio.to_thread(self._run, "chat", conversations, sampling_params=params)
        return [
            Generation(
                text=out.outputs[0].text,
                prompt_tokens=len(out.prompt_token_ids or []),
                completion_tokens=len(out.outputs[0].token_ids),
                finish_reason=out.outputs[0].finish_reason or "stop",
            )
            for out in outputs
        ]

    # ----------------------------------------------------------------- option scoring

    def _scoring_prompts(self, requests: Sequence[OptionScoringRequest]) -> tuple[list[list[int]], list[int]]:
        """Token ids of every prompt + option, and where each option's tokens start."""
        prompts, starts = [], []
        for request in requests:
            prefix = self.render(request.messages, request.assistant_prefix)
            prefix_ids = self._token_ids(prefix)
            for option in request.options:
                full_ids = self._token_ids(prefix + option)
                prompts.append(full_ids)
                starts.append(option_token_start(prefix_ids, full_ids))
        return prompts, starts

    async def score_options(self, requests: Sequence[OptionScoringRequest]) -> list[OptionScores]:
        if not requests:
            return []
        prompts, starts = await asyncio.to_thread(self._scoring_prompts, requests)
        params = self._vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        inputs = [{"prompt_token_ids": ids} for ids in prompts]
        outputs = await asyncio.to_thread(self._run, "generate", inputs, sampling_params=params)
        flat = [
            sum_prompt_logprobs(out.prompt_logprobs, ids, start)
            for out, ids, start in zip(outputs, prompts, starts)
        ]
        scores, position = [], 0
        for request in requests:
            scores.append(OptionScores(flat[position : position + len(request.options)]))
            position += len(request.options)
        return scores

    async def choose(self, requests: Sequence[OptionScoringRequest]) -> list[int]:
        """Guided choice: the model generates exactly one of the options (greedy)."""
        if not requests:
            return []
        structured_outputs = self._vllm.sampling_params.StructuredOutputsParams
        prompts, params = [], []
        for request in requests:
            longest = max(len(self._token_ids(option)) for option in request.options)
            # Token ids, not text: vLLM would add special tokens to a text prompt a second time.
            prompts.append(
                {"prompt_token_ids": self._token_ids(self.render(request.messages, request.assistant_prefix))}
            )
            params.append(
                self._vllm.SamplingParams(
                    max_tokens=longest + 2,
                    temperature=0.0,
                    structured_outputs=structured_outputs(choice=list(request.options)),
                )
            )
        outputs = await asyncio.to_thread(self._run, "generate", prompts, sampling_params=params)
        chosen = [
            choice_index(out.outputs[0].text, request.options) for out, request in zip(outputs, requests)
        ]
        if any(index is None for index in chosen):  # guidance unavailable: weigh the options instead
            return await super().choose(requests)
        return [index for index in chosen if index is not None]
