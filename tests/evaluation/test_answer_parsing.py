"""Generate-then-parse answer extraction, used by the throughput benchmark."""

from __future__ import annotations

from evaluation.parsing import parse_option_reply, parse_scale_reply

LABELS = ("Very important", "Rather important", "Not very important", "Not at all important")


def test_scale_reply_takes_the_first_number_on_the_scale():
    assert parse_scale_reply("3", 1, 4) == 3
    assert parse_scale_reply("I would say 7, no, 2.", 1, 4) == 2
    assert parse_scale_reply("0", 0, 2) == 0
    assert parse_scale_reply("1.5", 1, 4) is None


def test_scale_reply_prefers_a_score_field():
    reply = '{"explanation": "With 2 children I value family customs", "score": 1}'
    assert parse_scale_reply(reply, 1, 4) == 1
    assert parse_scale_reply('{"explanation": "hard to say", "score": "3"}', 1, 4) == 3


def test_scale_reply_falls_back_to_the_longest_label():
    assert parse_scale_reply("Not very important to me", 1, 4, LABELS) == 3
    assert parse_scale_reply("very important!", 1, 4, LABELS) == 1


def test_unparseable_scale_reply():
    assert parse_scale_reply("It depends on the situation.", 1, 4, LABELS) is None


def test_option_reply_by_letter_or_text():
    options = ["Very good", "Somewhat good", "Somewhat bad"]
    assert parse_option_reply("B", options) == 1
    assert parse_option_reply("(C) somewhat bad", options) == 2
    assert parse_option_reply("I think it is somewhat good", options) == 1
    assert parse_option_reply("D", options) is None
    assert parse_option_reply("No idea", options) is None
