"""The `openai` backend: request building and concurrency (fake transport), then a real server.

Server tests run against llama_cpp.server serving the embedded SmolLM2 GGUF (fixture in conftest.py).
Option scores are checked for consistency with the server's own token log-probabilities, not for
model knowledge: a 135M model is not reliably right.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from simulator.backends.base import GenerationRequest, OptionScoringRequest, SamplingParams
from simulator.backends.openai_backend import (
    OpenAIBackend,
    OpenAIServerError,
    chat_payload,
    normalize_base_url,
)
from simulator.backends.registry import create_backend

QUESTION = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Is snow cold?"}]


def chat_reply(text: str, prompt_tokens: int = 7, completion_tokens: int = 3) -> dict:
    return {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    }


# ----------------------------------------------------------------------------- request building


def test_chat_payload_carries_sampling_parameters():
    request = GenerationRequest(
        messages=QUESTION,
        params=SamplingParams(max_new_tokens=12, temperature=0.8, top_p=0.9, seed=3, stop=("\n",)),
    )
    payload = chat_payload("m", request.messages, request)
    assert payload == {
        "model": "m",
        "messages": QUESTION,
        "max_tokens": 12,
        "temperature": 0.8,
        "top_p": 0.9,
        "seed": 3,
        "stop": ["\n"],
    }


def test_greedy_payload_has_zero_temperature_full_top_p_and_no_empty_fields():
    request = GenerationRequest(messages=QUESTION, params=SamplingParams(temperature=0, top_p=0.5))
    payload = chat_payload("m", request.messages, request)
    assert (payload["temperature"], payload["top_p"]) == (0.0, 1.0)
    assert "seed" not in payload and "stop" not in payload


@pytest.mark.parametrize(
    "given", ["http://h:8000", "http://h:8000/", "http://h:8000/v1", "http://h:8000/v1/", "h:8000"]
)
def test_base_url_forms_are_normalized(given):
    assert normalize_base_url(given) == "http://h:8000/v1"


def test_registry_creates_the_openai_backend():
    backend = create_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", max_concurrency=4)
    assert isinstance(backend, OpenAIBackend)
    assert (backend.model_id, backend.preferred_batch_size()) == ("m", 4)


def test_concurrent_requests_are_bounded_and_answers_keep_request_order():
    in_flight = 0
    most_in_flight = 0
    seen_bodies = []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most_in_flight
        body = json.loads(request.content)
        seen_bodies.append(body)
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        index = int(body["messages"][-1]["content"])
        await asyncio.sleep(0.01 * (10 - index))  # later requests answer first
        in_flight -= 1
        return httpx.Response(200, json=chat_reply(f"reply {index}"))

    backend = OpenAIBackend(model="m", max_concurrency=3, transport=httpx.MockTransport(handler))
    requests = [GenerationRequest(messages=[{"role": "user", "content": str(i)}]) for i in range(10)]
    replies = asyncio.run(backend.generate(requests))
    assert [r.text for r in replies] == [f"reply {i}" for i in range(10)]
    assert most_in_flight == 3
    assert all(body["model"] == "m" for body in seen_bodies)


def test_model_none_takes_the_first_served_model():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "served-model"}, {"id": "other"}]})
        assert json.loads(request.content)["model"] == "served-model"
        assert request.headers["authorization"] == "Bearer secret"
        return httpx.Response(200, json=chat_reply("hi"))

    backend = OpenAIBackend(api_key="secret", transport=httpx.MockTransport(handler))
    [reply] = asyncio.run(backend.generate([GenerationRequest(messages=QUESTION)]))
    assert (reply.text, reply.prompt_tokens, reply.completion_tokens) == ("hi", 7, 3)
    assert backend.model_id == "served-model"


def test_server_errors_become_one_line_messages():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="Traceback (most recent call last):\n  boom\nValueError: bad")

    backend = OpenAIBackend(model="m", transport=httpx.MockTransport(handler))
    with pytest.raises(OpenAIServerError) as error:
        asyncio.run(backend.generate([GenerationRequest(messages=QUESTION)]))
    message = str(error.value)
    assert "HTTP 500" in message and "ValueError: bad" in message and "\n" not in message


def test_choose_defaults_to_the_most_probable_option():
    def handler(request: httpx.Request) -> httpx.Response:
        top = {"calm": -2.0, "angry": -0.3, "sad": -1.0}
        return httpx.Response(200, json={"choices": [{"logprobs": {"top_logprobs": [top]}}]})

    backend = OpenAIBackend(model="m", chat_template="chatml", transport=httpx.MockTransport(handler))
    requests = [OptionScoringRequest(messages=QUESTION, options=["calm", "angry", "sad"])]
    assert asyncio.run(backend.choose(requests)) == [1]


def test_unreachable_server_fails_with_one_clear_line():
    with socket_closed_port() as port:
        backend = OpenAIBackend(base_url=f"http://127.0.0.1:{port}", timeout=5)
        with pytest.raises(OpenAIServerError, match=f"cannot reach .*127.0.0.1:{port}/v1") as error:
            asyncio.run(backend.generate([GenerationRequest(messages=QUESTION)]))
        assert "\n" not in str(error.value)
        with pytest.raises(OpenAIServerError, match="cannot reach"):
            _ = backend.model_id


class socket_closed_port:
    """A local port that nothing listens on (bound, never listening, so nobody else takes it)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


# ----------------------------------------------------------------------------- real server


@pytest.fixture(scope="module")
def server_backend(llama_server_url: str) -> OpenAIBackend:
    return OpenAIBackend(base_url=llama_server_url, max_concurrency=4)


def greedy(max_new_tokens: int) -> SamplingParams:
    return SamplingParams(max_new_tokens=max_new_tokens, temperature=0, seed=1)


@pytest.mark.server
def test_generate_through_server_returns_text_and_token_counts(server_backend):
    replies = asyncio.run(
        server_backend.generate([GenerationRequest(messages=QUESTION, params=greedy(8))] * 2)
    )
    for reply in replies:
        assert reply.text.strip()
        assert reply.prompt_tokens > 10
        assert 1 <= reply.completion_tokens <= 8
        assert reply.finish_reason in ("stop", "length")
    assert server_backend.model_id.endswith(".gguf")  # model=None: asked the server


@pytest.mark.server
def test_same_seed_gives_identical_replies(server_backend):
    sampled = SamplingParams(max_new_tokens=16, temperature=0.9, seed=11)
    batch = [
        GenerationRequest(messages=QUESTION, params=p) for p in (sampled, sampled, greedy(16), greedy(16))
    ]
    first = asyncio.run(server_backend.generate(batch))
    again = asyncio.run(server_backend.generate(batch[:1]))
    assert first[0].text == first[1].text == again[0].text
    assert first[2].text == first[3].text


@pytest.mark.server
def test_client_side_template_renders_what_the_server_renders(server_backend, llama_server_url):
    """Greedy text from our rendered prompt on /v1/completions equals the server's own chat reply."""
    template = asyncio.run(server_backend.chat_template())
    assert template is not None and template.source.startswith("gguf:")
    [chat] = asyncio.run(server_backend.generate([GenerationRequest(messages=QUESTION, params=greedy(12))]))
    body = {"prompt": template.render(QUESTION), "max_tokens": 12, "temperature": 0, "stop": ["<|im_end|>"]}
    completion = httpx.post(f"{llama_server_url}/completions", json=body, timeout=120).json()
    assert completion["choices"][0]["text"] == chat.text


@pytest.mark.server
def test_single_token_options_agree_across_first_token_echo_and_chat_scoring(
    server_backend, llama_server_url
):
    request = OptionScoringRequest(messages=QUESTION, options=["Yes", "No"])
    [fast] = asyncio.run(server_backend.score_options([request]))
    [echoed] = asyncio.run(OpenAIBackend(base_url=llama_server_url, scoring="echo").score_options([request]))
    chat_only = OpenAIBackend(base_url=llama_server_url, chat_template="server")
    [by_chat] = asyncio.run(chat_only.score_options([request]))
    assert fast.logprobs == pytest.approx(echoed.logprobs, abs=1e-3)
    assert fast.logprobs == pytest.approx(by_chat.logprobs, abs=1e-4)
    assert sum(fast.probabilities) == pytest.approx(1.0)
    assert all(lp < 0 for lp in fast.logprobs)
    assert chat_only.describe()["chat_template"] is None


@pytest.mark.server
def test_multi_token_option_scores_the_sum_of_its_token_logprobs(server_backend, llama_server_url):
    """Score of the model's own greedy continuation == sum of the logprobs it generated it with."""
    template = asyncio.run(server_backend.chat_template())
    body = {"prompt": template.render(QUESTION), "max_tokens": 3, "temperature": 0, "logprobs": 1}
    generated = httpx.post(f"{llama_server_url}/completions", json=body, timeout=120).json()["choices"][0]
    token_logprobs = generated["logprobs"]["token_logprobs"]
    assert len(token_logprobs) == 3
    request = OptionScoringRequest(messages=QUESTION, options=[generated["text"], "Purple"])
    [exact] = asyncio.run(server_backend.score_options([request]))
    assert exact.logprobs[0] == pytest.approx(sum(token_logprobs), abs=1e-3)
    assert exact.logprobs[1] < 0
    # Chat-only scoring reads first tokens only: an upper bound, never below the exact value.
    chat_only = OpenAIBackend(base_url=llama_server_url, chat_template="server")
    [approximate] = asyncio.run(chat_only.score_options([request]))
    assert approximate.logprobs[0] == pytest.approx(token_logprobs[0], abs=1e-3)
    assert all(a >= e - 1e-4 for a, e in zip(approximate.logprobs, exact.logprobs))
