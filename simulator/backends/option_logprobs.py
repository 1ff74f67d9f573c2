"""Reading answer-option log-probabilities out of OpenAI-compatible responses (pure functions).

Two ways, both exact where they apply:

- first token: one request for the reply's first-token distribution (top 20 candidates). When every
  option is itself a single token listed there, log P(option) is read off directly. Cheap: one
  prompt evaluation for all options.
- echo: `/v1/completions` on `prompt + option` with `echo=true, logprobs=1` returns the log-probability
  of every prompt token; the option's log-probability is the sum over its trailing tokens. Exact for
  any option, one request per option. Supported by vLLM and llama_cpp.server (which is slow at it:
  it sorts the whole vocabulary in Python for every prompt token, ~0.1 s per token on a small CPU).

Chat-only servers (no completions endpoint or no known chat template) get the first-token method
only, and for options that are not single tokens it is an approximation: an option is scored by the
longest listed token it starts with. That is valid only when the options differ in their first
token; options sharing one are refused rather than scored wrongly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

TOP_LOGPROBS = 20  # the most vLLM and OpenAI return by default


class OptionScoringError(ValueError):
    """The server's answer cannot give the options' log-probabilities."""


def top_logprobs_from_completion(data: Mapping[str, Any]) -> dict[str, float] | None:
    """First generated token's candidates from a /v1/completions response (`logprobs=N`)."""
    logprobs = (data.get("choices") or [{}])[0].get("logprobs") or {}
    tops = logprobs.get("top_logprobs") or []
    if not tops or not tops[0]:
        return None  # e.g. llama.cpp stops without a token when end-of-turn comes first
    return {str(token): float(value) for token, value in tops[0].items()}


def top_logprobs_from_chat(data: Mapping[str, Any]) -> dict[str, float] | None:
    """First generated token's candidates from a /v1/chat/completions response (`top_logprobs=N`)."""
    logprobs = (data.get("choices") or [{}])[0].get("logprobs") or {}
    content = logprobs.get("content") or []
    if not content:
        return None
    top: dict[str, float] = {}
    for entry in content[0].get("top_logprobs") or []:
        top.setdefault(str(entry["token"]), float(entry["logprob"]))
    return top or None


def exact_first_token_logprobs(top: Mapping[str, float], options: Sequence[str]) -> list[float] | None:
    """log P(option) for options that are all single listed tokens; None when one is not."""
    if all(option in top for option in options):
        return [top[option] for option in options]
    return None


def approximate_first_token_logprobs(top: Mapping[str, float], options: Sequence[str]) -> list[float]:
    """Score each option by the longest listed token it starts with (see module doc).

    An option no listed token starts with gets the smallest listed log-probability: it is at most
    that likely. Options whose first token would be the same are refused.
    """
    floor = min(top.values())
    chosen: list[str | None] = []
    for option in options:
        prefixes = [token for token in top if token and option.startswith(token)]
        chosen.append(max(prefixes, key=len) if prefixes else None)
    for i, token in enumerate(chosen):
        for j in range(i + 1, len(options)):
            if token is not None and chosen[j] == token:
                raise OptionScoringError(
                    f"options '{options[i]}' and '{options[j]}' start with the same token '{token}': "
                    "the first-token method cannot tell them apart (use a server with echo logprobs, "
                    "e.g. vLLM, or options that differ in their first word)"
                )
    return [top[token] if token is not None else floor for token in chosen]


def echo_option_logprob(data: Mapping[str, Any], option: str) -> float:
    """Sum of the log-probabilities of the trailing prompt tokens that spell `option`.

    The response is for prompt = rendered chat + option with `echo=true`. Tokens are aligned from
    the end, not by `text_offset`: servers count offsets differently around special tokens.
    A token straddling the boundary (prefix chars merged into the option's first token) is counted.
    """
    choice = (data.get("choices") or [{}])[0]
    logprobs = choice.get("logprobs") or {}
    tokens: list[str] = list(logprobs.get("tokens") or [])
    values: list[float | None] = list(logprobs.get("token_logprobs") or [])
    if not tokens or len(tokens) != len(values):
        raise OptionScoringError("the server returned no prompt logprobs (does it support echo=true?)")
    generated = int((data.get("usage") or {}).get("completion_tokens", 1))
    if generated:
        tokens, values = tokens[:-generated], values[:-generated]
    # A token is at least one byte (or decodes to an empty piece of one), so this bounds the walk.
    max_tokens = len(option.encode("utf-8")) + 1
    spelled, total = "", 0.0
    for token, value in zip(reversed(tokens[-max_tokens:]), reversed(values[-max_tokens:])):
        if value is None:
            break  # the very first prompt token has no log-probability
        spelled = token + spelled
        total += value
        if spelled.endswith(option):
            return total
    raise OptionScoringError(f"cannot find the option {option!r} at the end of the echoed prompt tokens")
