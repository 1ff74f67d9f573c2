"""The transformers backend: the embedded default model, or any Hugging Face causal LM.

Batching: a list of requests becomes one left-padded forward pass per decoding step, with
per-row temperature, top-p, seed and token limit, so a request's output does not depend on
which other requests share its batch (greedy) or on their seeds (sampling). Finished rows leave
the batch. Per-conversation KV caches (kv_sessions.py) skip the prompt prefix a conversation has
already processed, and a conversation's first prompt borrows the scene another one began with.
Where the time goes on CPU, and what answers it: prompt processing (length-sorted chunks, little
padding), copying the KV cache at every step (reserved_cache.py: written in place), attention
over grouped key/value heads (cpu_attention.py). All model work runs on one worker thread, never
on the event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from simulator.backends.base import (
    Backend,
    ChatMessage,
    Generation,
    GenerationRequest,
    OptionScores,
    OptionScoringRequest,
)
from simulator.backends.cpu_attention import use_packed_gqa_attention
from simulator.backends.cpu_threads import cpu_threads
from simulator.backends.embedded import EMBEDDED_MODEL_NAME, embedded_gguf_path, embedded_model_dir
from simulator.backends.kv_sessions import SessionCache, SessionCacheStore
from simulator.backends.reserved_cache import ReservedCache

__all__ = ["TransformersBackend", "embedded_gguf_path", "embedded_model_dir", "pick_dtype"]


def cpu_supports_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def pick_dtype(name: str = "auto", device: str = "cpu") -> torch.dtype:
    """bf16 where the hardware has it (2-3x faster on such CPUs), else fp32; explicit names win."""
    if name != "auto":
        return {
            "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16,
            "float32": torch.float32,
            "fp32": torch.float32,
        }[name]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_supports_bf16() else torch.float32


@dataclass(frozen=True)
class Reuse:
    """A cached entry and how many leading tokens of a prompt it covers."""

    entry: SessionCache | None
    length: int


@dataclass
class Prefilled:
    logits: torch.Tensor  # [rows, vocab]: each row's next-token distribution
    cache: ReservedCache
    mask: torch.Tensor  # [rows, cache width]: 1 where a row has a real token
    positions: torch.Tensor  # [rows]: each row's next position
    order: list[int]  # the request of each row


def prefill_ranges(lengths: list[int], budget: int) -> list[tuple[int, int]]:
    """Chunks of rows sorted longest first, as (start, end) ranges. A chunk holds at most `budget`
    padded tokens (a longer row goes alone) and no row shorter than half its longest, so padding
    never more than doubles a row's work."""
    ranges: list[tuple[int, int]] = []
    for row, length in enumerate(lengths):
        if ranges:
            start, end = ranges[-1]
            longest = lengths[start]
            if (end - start + 1) * longest <= budget and 2 * length >= longest:
                ranges[-1] = (start, end + 1)
                continue
        ranges.append((row, row + 1))
    return ranges


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(
        self,
        model: str | None = None,
        dtype: str = "auto",
        adapter: str | None = None,
        max_batch_size: int = 32,
        device: str | None = None,
        session_cache_tokens: int = 65_536,
        prefill_chunk_tokens: int = 2048,
        threads: int | None = None,
    ):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = pick_dtype(dtype, self.device)
        if self.device == "cpu":
            torch.set_num_threads(cpu_threads(threads))
        self._model_name = model or EMBEDDED_MODEL_NAME
        self.model_path = str(embedded_model_dir()) if model is None else model
        self.adapter = adapter
        self.max_batch_size = max_batch_size
        self.prefill_chunk_tokens = prefill_chunk_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        self.model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=self.dtype).to(self.device)
        if adapter:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, adapter).merge_and_unload()
        self.model.eval()
        use_packed_gqa_attention(self.model)
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id
        self.stop_ids = self._stop_token_ids()
        text_config = self.model.config.get_text_config()
        self.num_layers = text_config.num_hidden_layers
        head_dim = (
            getattr(text_config, "head_dim", None)
            or text_config.hidden_size // text_config.num_attention_heads
        )
        self.kv_shape = (
            getattr(text_config, "num_key_value_heads", None) or text_config.num_attention_heads,
            head_dim,
        )
        self.sessions = SessionCacheStore(session_cache_tokens)
        # One model call at a time: on CPU two concurrent forwards only fight for the cores.
        self._lock = threading.Lock()
        # And always from the same thread: OpenMP keeps a team of threads per calling thread, and
        # the idle teams of other threads spin on the cores the working one needs (with 2 threads,
        # decoding ran ~1.5x slower while calls hopped between asyncio's worker threads).
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="culturesim-model")

    # -- Backend interface ------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        return self._model_name + (f"+{Path(self.adapter).name}" if self.adapter else "")

    def describe(self) -> dict[str, Any]:
        import transformers

        info: dict[str, Any] = {
            "backend": self.name,
            "model": self._model_name,
            "model_path": self.model_path,
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": self.device,
            "threads": torch.get_num_threads() if self.device == "cpu" else None,
            "adapter": self.adapter,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        }
        if self._model_name == EMBEDDED_MODEL_NAME:
            info["gguf_file"] = str(embedded_gguf_path())
        return info

    def preferred_batch_size(self) -> int:
        return self.max_batch_size

    def end_session(self, session_id: str) -> None:
        with self._lock:
            self.sessions.drop(session_id)

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        return await self._in_worker(self._generate_all, list(requests))

    async def score_options(self, requests: Sequence[OptionScoringRequest]) -> list[OptionScores]:
        return await self._in_worker(self._score_all, list(requests))

    def run_on_model_thread(self, fn: Any, *args: Any) -> Any:
        """Run `fn(*args)` on the thread that makes every model call, and return its result
        (a benchmark's plain-transformers baseline gets the same threading as the backend)."""
        return self._worker.submit(fn, *args).result()

    async def _in_worker(self, fn: Any, requests: list[Any]) -> list[Any]:
        return await asyncio.get_running_loop().run_in_executor(self._worker, self._locked, fn, requests)

    def _locked(self, fn: Any, requests: list[Any]) -> list[Any]:
        with self._lock, torch.inference_mode():
            results: list[Any] = []
            for start in range(0, len(requests), self.max_batch_size):
                results.extend(fn(requests[start : start + self.max_batch_size]))
            return results

    # -- tokenization -----------------------------------------------------------------------------

    def render(self, messages: list[ChatMessage], add_generation_prompt: bool = True) -> list[int]:
        ids = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=False
        )
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):
            ids = ids["input_ids"]
        return list(ids)

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        return len(self.render(messages))

    def _stop_token_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id}
        configured = getattr(self.model.generation_config, "eos_token_id", None)
        ids.update(configured if isinstance(configured, list) else [configured])
        for token in ("<|im_end|>", "<|eot_id|>", "<|end|>"):
            token_id = self.tokenizer.convert_tokens_to_ids(token)
            if isinstance(token_id, int) and token_id != self.tokenizer.unk_token_id:
                ids.add(token_id)
        ids.discard(None)
        return ids

    # -- batched forward over a ragged batch with reused prefixes ---------------------------------

    def _reusable(self, session_id: str | None, prompt: list[int]) -> Reuse:
        entry, length = self.sessions.longest_prefix(session_id, prompt)
        return Reuse(entry, length)

    def _prefill(self, prompts: list[list[int]], reused: list[Reuse], reserve: int = 0) -> Prefilled:
        """Process every row's uncached tokens; the result has room for `reserve` more per row.

        Rows go through the model longest first in chunks (see `prefill_ranges`: on CPU a long
        padded batch is slower per token and pays for its padding). Each chunk writes straight
        into its rows of one cache, right-aligned; the rows stay in that order (`Prefilled.order`).
        """
        new_lengths = [len(prompt) - reuse.length for prompt, reuse in zip(prompts, reused)]
        order = sorted(range(len(prompts)), key=lambda i: -new_lengths[i])
        ranges = prefill_ranges([new_lengths[i] for i in order], self.prefill_chunk_tokens)
        if len(ranges) == 1:
            return self._prefill_rows(prompts, reused, self._new_cache(prompts, reused, reserve))
        prompts, reused = [prompts[i] for i in order], [reused[i] for i in order]
        widths = [
            max(r.length for r in reused[a:b]) + max(new_lengths[i] for i in order[a:b]) for a, b in ranges
        ]
        rows, width = len(prompts), max(widths)
        cache = self._new_cache(prompts, reused, reserve, capacity=width + reserve)
        mask = torch.zeros((rows, width), dtype=torch.long)
        parts = []
        for (a, b), chunk_width in zip(ranges, widths):
            window = cache.window(slice(a, b), width - chunk_width)
            parts.append(self._prefill_rows(prompts[a:b], reused[a:b], window))
            mask[a:b, width - chunk_width :] = parts[-1].mask
        for layer in cache.layers:
            layer.set_length(width)
        logits = torch.cat([part.logits for part in parts])
        positions = torch.cat([part.positions for part in parts])
        return Prefilled(logits, cache, mask, positions, order)

    def _new_cache(
        self, prompts: list[list[int]], reused: list[Reuse], reserve: int, capacity: int | None = None
    ) -> ReservedCache:
        """An allocated cache for these rows: by default room for the longest row plus `reserve`."""
        if capacity is None:
            new_len = max(len(prompt) - reuse.length for prompt, reuse in zip(prompts, reused))
            capacity = max(reuse.length for reuse in reused) + new_len + reserve
        cache = ReservedCache.empty(self.num_layers, capacity)
        heads, dim = self.kv_shape
        for layer in cache.layers:
            layer.allocate(len(prompts), heads, dim, self.dtype, self.device)
        return cache

    def _prefill_rows(self, prompts: list[list[int]], reused: list[Reuse], cache: ReservedCache) -> Prefilled:
        """One forward over rows laid out as [pad | cached prefix | pad | new tokens], into `cache`.

        Holes in the attention mask are fine for the model; explicit position ids keep every
        row's positions equal to what an unbatched run would use.
        """
        new = [prompt[reuse.length :] for prompt, reuse in zip(prompts, reused)]
        past_len = max(reuse.length for reuse in reused)
        new_len, rows = max(len(tokens) for tokens in new), len(prompts)
        input_ids = torch.full((rows, new_len), self.pad_id, dtype=torch.long)
        mask = torch.zeros((rows, past_len + new_len), dtype=torch.long)
        positions = torch.zeros((rows, new_len), dtype=torch.long)
        for i, (reuse, tokens) in enumerate(zip(reused, new)):
            r = reuse.length
            input_ids[i, new_len - len(tokens) :] = torch.tensor(tokens)
            mask[i, past_len - r : past_len] = 1
            mask[i, past_len + new_len - len(tokens) :] = 1
            positions[i, new_len - len(tokens) :] = torch.arange(r, r + len(tokens))
        if past_len:
            nothing = torch.empty(
                (self.kv_shape[0], 0, self.kv_shape[1]), dtype=self.dtype, device=self.device
            )
            for index, layer in enumerate(cache.layers):
                for row, reuse in enumerate(reused):
                    entry, r = reuse.entry, reuse.length
                    keys = entry.keys[index][:, :r] if entry else nothing
                    values = entry.values[index][:, :r] if entry else nothing
                    layer.place(row, keys, values, end=past_len)
                layer.set_length(past_len)
        self.sessions.hits_tokens += sum(reuse.length for reuse in reused)
        out = self.model(
            input_ids=input_ids.to(self.device),
            attention_mask=mask.to(self.device),
            position_ids=positions.to(self.device),
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,  # only the next token's distribution is needed
        )
        next_positions = torch.tensor([len(p) for p in prompts])
        return Prefilled(out.logits[:, -1, :].float(), cache, mask, next_positions, list(range(rows)))

    def _generate_all(self, requests: list[GenerationRequest]) -> list[Generation]:
        prompts = [self.render(r.messages) for r in requests]
        reused = [self._reusable(r.session_id, prompt) for r, prompt in zip(requests, prompts)]
        reserve = max(r.params.max_new_tokens for r in requests)
        prefilled = self._prefill(prompts, reused, reserve)
        logits, cache, mask, positions = (
            prefilled.logits,
            prefilled.cache,
            prefilled.mask,
            prefilled.positions,
        )
        generators = [self._generator(r.params.seed) for r in requests]
        outputs: list[list[int]] = [[] for _ in requests]
        finish = ["length"] * len(requests)
        active = prefilled.order  # request index of each batch row
        while active:
            next_tokens = []
            for row, index in enumerate(active):
                token = self._sample(logits[row], requests[index].params, generators[index])
                next_tokens.append(token)
                outputs[index].append(token)
            keep = []
            for row, index in enumerate(active):
                params, out = requests[index].params, outputs[index]
                if out[-1] in self.stop_ids:
                    out.pop()
                    finish[index] = "stop"
                elif params.stop and any(s in self.tokenizer.decode(out) for s in params.stop):
                    finish[index] = "stop"
                elif len(out) < params.max_new_tokens:
                    keep.append(row)
                    continue
                self._save_session(requests[index], prompts[index] + out[:-1], cache, mask, row)
            if not keep:
                break
            if len(keep) < len(active):
                index_tensor = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(index_tensor)
                mask, positions = mask[keep], positions[keep]
                next_tokens = [next_tokens[row] for row in keep]
                active = [active[row] for row in keep]
            mask = torch.cat([mask, torch.ones((len(active), 1), dtype=torch.long)], dim=1)
            out = self.model(
                input_ids=torch.tensor(next_tokens, device=self.device).unsqueeze(1),
                attention_mask=mask.to(self.device),
                position_ids=positions.unsqueeze(1).to(self.device),
                past_key_values=cache,
                use_cache=True,
            )
            positions = positions + 1
            logits, cache = out.logits[:, -1, :].float(), out.past_key_values
        results = []
        for request, prompt, out, reason in zip(requests, prompts, outputs, finish):
            text = self.tokenizer.decode(out, skip_special_tokens=True)
            for stop in request.params.stop:
                text = text.split(stop)[0]
            results.append(Generation(text.strip(), len(prompt), len(out), reason))
        return results

    def _save_session(
        self, request: GenerationRequest, fed: list[int], cache: Any, mask: torch.Tensor, row: int
    ):
        if request.session_id is None or self.sessions.max_tokens <= 0:
            return
        valid = mask[row].bool().to(self.device)
        keys = [layer.keys[row][:, valid[: layer.keys.shape[2]]].clone() for layer in cache.layers]
        values = [layer.values[row][:, valid[: layer.values.shape[2]]].clone() for layer in cache.layers]
        self.sessions.put(request.session_id, SessionCache(fed[: keys[0].shape[1]], keys, values))

    def _generator(self, seed: int | None) -> torch.Generator:
        generator = torch.Generator()
        generator.manual_seed(seed if seed is not None else torch.seed())
        return generator

    @staticmethod
    def _sample(logits: torch.Tensor, params: Any, generator: torch.Generator) -> int:
        if params.greedy:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits / params.temperature, dim=-1)
        if params.top_p < 1.0:
            sorted_probs, order = torch.sort(probs, descending=True)
            keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < params.top_p
            probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_probs[keep])
        return int(torch.multinomial(probs.cpu(), 1, generator=generator))

    # -- option scoring ---------------------------------------------------------------------------

    def _score_all(self, requests: list[OptionScoringRequest]) -> list[OptionScores]:
        """Prompts are processed once; each option then continues from its prompt's cache."""
        prompts = []
        for request in requests:
            ids = self.render(request.messages)
            if request.assistant_prefix:
                ids += self.tokenizer.encode(request.assistant_prefix, add_special_tokens=False)
            prompts.append(ids)
        # A conversation's cached prefix is reused read-only (scoring never updates the cache).
        reused = [self._reusable(request.session_id, prompt) for request, prompt in zip(requests, prompts)]
        prefilled = self._prefill(prompts, reused)
        cache, mask, positions = prefilled.cache, prefilled.mask, prefilled.positions
        first_logprobs = torch.log_softmax(prefilled.logits, dim=-1)
        rows = [(r, o) for r, request in enumerate(requests) for o in range(len(request.options))]
        option_ids = {
            (r, o): self.tokenizer.encode(requests[r].options[o], add_special_tokens=False) for r, o in rows
        }
        row_of = {request: row for row, request in enumerate(prefilled.order)}
        scores = {key: float(first_logprobs[row_of[key[0]], ids[0]]) for key, ids in option_ids.items()}
        longer = [key for key in rows if len(option_ids[key]) > 1]
        if longer:
            for key, rest in self._score_continuations(
                longer, option_ids, cache, mask, positions, row_of
            ).items():
                scores[key] += rest
        return [
            OptionScores([scores[(r, o)] for o in range(len(req.options))]) for r, req in enumerate(requests)
        ]

    def _score_continuations(
        self, keys, option_ids, cache, mask, positions, row_of
    ) -> dict[tuple[int, int], float]:
        """Log-probability of option tokens 2..n: feed tokens 1..n-1 after the shared prompt cache."""
        from transformers import DynamicCache

        width = max(len(option_ids[key]) for key in keys) - 1
        rows = torch.tensor([row_of[key[0]] for key in keys], device=self.device)
        branch = DynamicCache(
            ddp_cache_data=[(layer.keys[rows].clone(), layer.values[rows].clone()) for layer in cache.layers]
        )
        input_ids = torch.full((len(keys), width), self.pad_id, dtype=torch.long)
        option_mask = torch.zeros((len(keys), width), dtype=torch.long)
        for i, key in enumerate(keys):
            fed = option_ids[key][:-1]
            input_ids[i, : len(fed)] = torch.tensor(fed)
            option_mask[i, : len(fed)] = 1
        start = positions[rows.cpu()].unsqueeze(1)
        out = self.model(
            input_ids=input_ids.to(self.device),
            attention_mask=torch.cat([mask[rows.cpu()], option_mask], dim=1).to(self.device),
            position_ids=(start + torch.arange(width)).to(self.device),
            past_key_values=branch,
            use_cache=True,
        )
        logprobs = torch.log_softmax(out.logits.float(), dim=-1)
        scores = {}
        for i, key in enumerate(keys):
            targets = option_ids[key][1:]
            scores[key] = sum(float(logprobs[i, j, t]) for j, t in enumerate(targets))
        return scores
