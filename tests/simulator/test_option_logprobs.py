"""Reading option log-probabilities out of OpenAI-compatible responses (pure logic)."""

from __future__ import annotations

import pytest

from simulator.backends.option_logprobs import (
    OptionScoringError,
    approximate_first_token_logprobs,
    echo_option_logprob,
    exact_first_token_logprobs,
    top_logprobs_from_chat,
    top_logprobs_from_completion,
)


def echo_response(tokens: list[str], logprobs: list[float | None], completion_tokens: int = 1) -> dict:
    return {
        "choices": [{"text": "".join(tokens), "logprobs": {"tokens": tokens, "token_logprobs": logprobs}}],
        "usage": {"prompt_tokens": len(tokens) - completion_tokens, "completion_tokens": completion_tokens},
    }


def test_echo_sums_the_trailing_option_tokens_and_drops_the_generated_one():
    tokens = ["<|im_start|>", "assistant", "\n", "Par", "is", " is"]
    data = echo_response(tokens, [None, -0.1, -0.2, -1.5, -0.25, -3.0])
    assert echo_option_logprob(data, "Paris") == pytest.approx(-1.75)


def test_echo_without_a_generated_token_uses_the_last_prompt_tokens():
    # llama.cpp returns no generated token when the model ends its turn at once.
    data = echo_response(["\n", "Y", "es"], [None, -2.0, -0.5], completion_tokens=0)
    assert echo_option_logprob(data, "Yes") == pytest.approx(-2.5)


def test_echo_counts_a_token_that_straddles_the_prefix_boundary():
    # prefix "Answer:" + option " yes" tokenized as "Answer", ":", " yes"
    data = echo_response(["Answer", ":", " yes", "."], [None, -0.3, -1.25, -0.1])
    assert echo_option_logprob(data, "yes") == pytest.approx(-1.25)


def test_echo_that_does_not_end_with_the_option_is_refused():
    data = echo_response(["\n", "No", "."], [None, -1.0, -0.1])
    with pytest.raises(OptionScoringError, match="Yes"):
        echo_option_logprob(data, "Yes")


def test_echo_without_logprobs_is_refused():
    with pytest.raises(OptionScoringError, match="echo"):
        echo_option_logprob({"choices": [{"text": "x", "logprobs": None}]}, "x")


def test_exact_first_token_needs_every_option_listed():
    top = {"Yes": -0.5, "No": -1.2, "Maybe": -4.0}
    assert exact_first_token_logprobs(top, ["No", "Yes"]) == [-1.2, -0.5]
    assert exact_first_token_logprobs(top, ["Yes", "Never"]) is None


def test_approximate_first_token_uses_longest_prefix_and_floors_unlisted_options():
    top = {"Str": -2.0, "Strongly": -0.7, "Dis": -1.1, "A": -3.0}
    scores = approximate_first_token_logprobs(top, ["Strongly agree", "Disagree", "Neutral"])
    assert scores == [-0.7, -1.1, -3.0]


def test_approximate_first_token_refuses_options_sharing_their_first_token():
    top = {"Very": -0.2, "Not": -1.0}
    with pytest.raises(OptionScoringError, match="same token 'Very'"):
        approximate_first_token_logprobs(top, ["Very good", "Very bad"])


def test_top_logprobs_are_read_from_both_response_shapes():
    completion = {"choices": [{"logprobs": {"top_logprobs": [{"Yes": -0.1, "No": -2.5}]}}]}
    assert top_logprobs_from_completion(completion) == {"Yes": -0.1, "No": -2.5}
    assert top_logprobs_from_completion({"choices": [{"logprobs": {"top_logprobs": []}}]}) is None
    chat = {
        "choices": [
            {
                "logprobs": {
                    "content": [
                        {"token": "Yes", "logprob": -0.1, "top_logprobs": [{"token": "Yes", "logprob": -0.1}]}
                    ]
                }
            }
        ]
    }
    assert top_logprobs_from_chat(chat) == {"Yes": -0.1}
    assert top_logprobs_from_chat({"choices": [{"logprobs": None}]}) is None
