"""Any OpenAI-compatible server (vLLM serve, llama.cpp server, Ollama, OpenAI) over plain HTTP.

Batching here means concurrency: a list of requests becomes that many concurrent HTTP requests
(bounded by `max_concurrency`), and the server batches them (vLLM continuously; llama_cpp.server
runs them one at a time). httpx is used directly: the openai SDK is not needed, and autogen-ext's
client tries to download tiktoken files, which fails offline.

Option scoring (see option_logprobs.py): with a chat template known on the client side, one
/v1/completions request reads the first-token distribution; if every option is a single listed
token that is exact and done, otherwise each option is scored exactly by echoing `prompt + option`.
Without a template (a chat-only server, a remote model), /v1/chat/completions first-token
probabilities are used (an approximation for multi-token options; documented there).
Structured `response_format`s are never sent: llama_cpp.server answers `json_schema` with HTTP 500.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any, Literal

import httpx

from simulator.backends.base import (
    Backend,
    ChatMessage,
    Generation,
    GenerationRequest,
    OptionScores,
    OptionScoringRequest,
)
from simulator.backends.chat_template import ChatTemplate, resolve_chat_template
from simulator.backends.option_logprobs import (
    TOP_LOGPROBS,
    OptionScoringError,
    approximate_first_token_logprobs,
    echo_option_logprob,
    exact_first_token_logprobs,
    top_logprobs_from_chat,
    top_logprobs_from_completion,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"  # `vllm serve` default
ScoringMethod = Literal["auto", "echo", "first_token"]


class OpenAIServerError(RuntimeError):
    """The server is unreachable or refused a request; the message is one line for the user."""


def normalize_base_url(base_url: str) -> str:
    """`http://host:port`, `.../v1` and `.../v1/` all mean the same API root, `.../v1`."""
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    return url if url.endswith("/v1") else url + "/v1"


def chat_payload(model: str, messages: Sequence[ChatMessage], request: GenerationRequest) -> dict[str, Any]:
    """The /v1/chat/completions body for one generation request."""
    params = request.params
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        "max_tokens": params.max_new_tokens,
        # Greedy is temperature 0 everywhere; top_p 1 keeps servers from truncating before argmax.
        "temperature": 0.0 if params.greedy else params.temperature,
        "top_p": 1.0 if params.greedy else params.top_p,
    }
    if params.seed is not None:
        payload["seed"] = params.seed
    if params.stop:
        payload["stop"] = list(params.stop)
    return payload


def parse_generation(data: dict[str, Any]) -> Generation:
    choice = data["choices"][0]
    usage = data.get("usage") or {}
    return Generation(
        text=(choice.get("message") or {}).get("content") or "",
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        finish_reason=choice.get("finish_reason") or "stop",
    )


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class OpenAIBackend(Backend):
    """Chat and option scoring against an OpenAI-compatible HTTP server."""

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        max_concurrency: int = 16,
        timeout: float = 300.0,
        chat_template: str | None = None,
        tokenizer: str | None = None,
        scoring: ScoringMethod = "auto",
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        """`model` None asks the server (/v1/models) and takes the first model.

        `chat_template` ("chatml", a Jinja string or file, or "server" to never render locally) and
        `tokenizer` (a Hugging Face id/path) say how to render prompts for /v1/completions scoring;
        by default the template is found from the served model id (see chat_template.py).
        `scoring`: "auto" (exact single-token reading, else echo), "echo", or "first_token" (one
        request; approximate for multi-token options). `transport` is for tests.
        """
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if scoring not in ("auto", "echo", "first_token"):
            raise ValueError(f"scoring must be 'auto', 'echo' or 'first_token', got {scoring!r}")
        self.base_url = normalize_base_url(base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.scoring = scoring
        self._model = model
        self._chat_template_option = chat_template
        self._tokenizer_option = tokenizer
        self._template: ChatTemplate | None = None
        self._template_resolved = False
        self._transport = transport
        # An httpx.AsyncClient and a semaphore belong to the event loop they were first used in;
        # callers may run several loops over the backend's life (asyncio.run per command/test).
        self._client: httpx.AsyncClient | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ----------------------------------------------------------------- plumbing

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def _client_for_loop(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._client is None or self._semaphore is None or self._loop is not loop:
            limits = httpx.Limits(
                max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency
            )
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers(),
                timeout=httpx.Timeout(self.timeout, connect=10.0),
                limits=limits,
                transport=self._transport,
            )
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
            self._loop = loop
        return self._client, self._semaphore

    def _unreachable(self, exc: Exception) -> OpenAIServerError:
        reason = _one_line(str(exc)) or type(exc).__name__
        return OpenAIServerError(
            f"cannot reach the OpenAI-compatible server at {self.base_url} ({reason}); "
            "is it running? (check --base-url)"
        )

    def _refused(self, path: str, response: httpx.Response, hint: str = "") -> OpenAIServerError:
        return OpenAIServerError(
            f"{self.base_url}{path} answered HTTP {response.status_code}: {_one_line(response.text)}{hint}"
        )

    async def _post(self, path: str, payload: dict[str, Any], hint: str = "") -> dict[str, Any]:
        client, semaphore = self._client_for_loop()
        async with semaphore:
            try:
                response = await client.post(path, json=payload)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise self._unreachable(exc) from None
            except httpx.TimeoutException:
                raise OpenAIServerError(
                    f"{self.base_url}{path} did not answer within {self.timeout:.0f} s"
                ) from None
        if response.status_code >= 400:
            raise self._refused(path, response, hint)
        return response.json()

    async def _ensure_model(self) -> str:
        if self._model is None:
            client, _ = self._client_for_loop()
            try:
                response = await client.get("/models")
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise self._unreachable(exc) from None
            self._model = self._first_model(response)
        return self._model

    def _first_model(self, response: httpx.Response) -> str:
        if response.status_code >= 400:
            raise self._refused("/models", response)
        models = response.json().get("data") or []
        if not models:
            raise OpenAIServerError(f"{self.base_url}/models lists no model; pass --model")
        return str(models[0]["id"])

    @property
    def model_id(self) -> str:
        if self._model is None:
            # One blocking call, outside any batch: manifests ask for the model before a run starts.
            try:
                with httpx.Client(headers=self._headers(), timeout=10.0) as client:
                    response = client.get(f"{self.base_url}/models")
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from None
            self._model = self._first_model(response)
        return self._model

    def describe(self) -> dict[str, Any]:
        template = self._template.source if self._template else None
        return {
            "backend": self.name,
            "model": self.model_id,
            "base_url": self.base_url,
            "chat_template": template,
        }

    def preferred_batch_size(self) -> int:
        return self.max_concurrency

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = self._semaphore = self._loop = None

    # ----------------------------------------------------------------- generation

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        if not requests:
            return []
        model = await self._ensure_model()

        async def one(request: GenerationRequest) -> Generation:
            data = await self._post("/chat/completions", chat_payload(model, request.messages, request))
            return parse_generation(data)

        return list(await asyncio.gather(*(one(r) for r in requests)))

    # ----------------------------------------------------------------- option scoring

    async def chat_template(self) -> ChatTemplate | None:
        """The client-side template for completions scoring (resolved once, off the event loop)."""
        if not self._template_resolved:
            if self._chat_template_option == "server":
                self._template = None
            else:
                model = await self._ensure_model()
                self._template = await asyncio.to_thread(
                    resolve_chat_template, model, self._chat_template_option, self._tokenizer_option
                )
            self._template_resolved = True
        return self._template

    async def score_options(self, requests: Sequence[OptionScoringRequest]) -> list[OptionScores]:
        if not requests:
            return []
        model = await self._ensure_model()
        template = await self.chat_template()
        for request in requests:
            if not request.options or len(set(request.options)) != len(request.options):
                raise ValueError(f"options must be distinct and non-empty, got {request.options!r}")
        if template is None and self.scoring == "echo":
            raise OptionScoringError(
                "echo scoring needs a chat template on the client (pass chat_template or tokenizer)"
            )
        if template is None:
            scored = (self._score_by_chat(model, r) for r in requests)
        else:
            scored = (self._score_by_completions(model, template, r) for r in requests)
        return list(await asyncio.gather(*scored))

    async def _score_by_completions(
        self, model: str, template: ChatTemplate, request: OptionScoringRequest
    ) -> OptionScores:
        prompt = template.render(request.messages) + request.assistant_prefix
        if self.scoring != "echo":
            data = await self._post(
                "/completions",
                {
                    "model": model,
                    "prompt": prompt,
                    "max_tokens": 1,
                    "temperature": 0.0,
                    "logprobs": TOP_LOGPROBS,
                },
            )
            top = top_logprobs_from_completion(data)
            if top is not None:
                exact = exact_first_token_logprobs(top, request.options)
                if exact is not None:
                    return OptionScores(exact)
                if self.scoring == "first_token":
                    return OptionScores(approximate_first_token_logprobs(top, request.options))
        echoed = await asyncio.gather(*(self._echo_logprob(model, prompt, o) for o in request.options))
        return OptionScores(list(echoed))

    async def _echo_logprob(self, model: str, prompt: str, option: str) -> float:
        # max_tokens 1, not 0: llama.cpp reads 0 as "no limit".
        payload = {"model": model, "prompt": prompt + option, "max_tokens": 1, "temperature": 0.0}
        payload.update(echo=True, logprobs=1)
        hint = " (this server cannot echo prompt logprobs: use scoring='first_token' or single-token options)"
        data = await self._post("/completions", payload, hint=hint)
        return echo_option_logprob(data, option)

    async def _score_by_chat(self, model: str, request: OptionScoringRequest) -> OptionScores:
        if request.assistant_prefix:
            raise OptionScoringError(
                "scoring after an assistant prefix needs /v1/completions and a chat template "
                "(pass chat_template or tokenizer to the openai backend)"
            )
        payload = {
            "model": model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in request.messages],
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": TOP_LOGPROBS,
        }
        top = top_logprobs_from_chat(await self._post("/chat/completions", payload))
        if top is None:
            raise OptionScoringError(f"{self.base_url}/chat/completions returned no top_logprobs")
        exact = exact_first_token_logprobs(top, request.options)
        return OptionScores(
            exact if exact is not None else approximate_first_token_logprobs(top, request.options)
        )
