"""Reply parsing on the junk a small model writes, and the round-robin turn order."""

from __future__ import annotations

import pytest

from simulator.protocol import ParsedReply, parse_reply, speaker_order

ME, OTHER = "Hana Sato", "Kenji Ito"


@pytest.mark.parametrize(
    ("raw", "action", "text"),
    [
        ("Hello Kenji, how are you?", "speak", "Hello Kenji, how are you?"),
        # role prefixes, markdown labels, quotes
        ("Hana: Hello there.", "speak", "Hello there."),
        ("**Hana Sato:** Sure thing.", "speak", "Sure thing."),
        ('Hana: "Hello Kenji, how are you?" Kenji: Fine.', "speak", "Hello Kenji, how are you?"),
        ("assistant: I am fine <|im_end|> junk after the end", "speak", "I am fine"),
        ("“I would love to.”", "speak", "I would love to."),
        # the model goes on with the other side's line, or a second paragraph of its own
        ("Nice to see you.\nKenji: Likewise.", "speak", "Nice to see you."),
        ("I think so. Kenji Ito: no, surely not", "speak", "I think so."),
        ("Thanks. I should go.\n\nHana: And another thing", "speak", "Thanks. I should go."),
        ("Kenji Ito: hello there. Hana: bye", "speak", "hello there."),
        # long replies are cut after a few sentences
        ("One. Two. Three. Four. Five.", "speak", "One. Two. Three."),
        # stage directions alone are non-verbal
        ("*smiles warmly*", "non-verbal", "smiles warmly"),
        ("(nods)", "non-verbal", "nods"),
        ("Hana: *bows slightly*", "non-verbal", "bows slightly"),
        # leaving, with or without a last line
        ("[leave]", "leave", ""),
        ("leave", "leave", ""),
        ("Goodbye! *leaves*", "leave", "Goodbye!"),
        ("Goodbye and leaves.", "leave", "Goodbye"),
        ("See you tomorrow, then walks away", "leave", "See you tomorrow"),
        ("*waves and walks away*", "leave", ""),
        ("Right. [leaves the conversation]", "leave", "Right."),
        # talking about leaving is still speech
        ("I will leave the office early today.", "speak", "I will leave the office early today."),
        # nothing usable
        ("", "none", ""),
        ("   \n  ", "none", ""),
        ("<|im_end|>", "none", ""),
        ("Hana:", "none", ""),
        ("*says nothing*", "none", ""),
        ("...", "none", ""),
    ],
)
def test_parse_reply(raw: str, action: str, text: str) -> None:
    assert parse_reply(raw, ME, [OTHER]) == ParsedReply(action, text)


@pytest.mark.parametrize(
    "raw",
    ["Hello.", "*nods*", "Bye then! *leaves*", "", 'Hana: "Quoted" Kenji: x', "One. Two. Three. Four."],
)
def test_canonical_form_parses_back_to_itself(raw: str) -> None:
    parsed = parse_reply(raw, ME, [OTHER])
    assert parse_reply(parsed.canonical(), ME, [OTHER]) == parsed


def test_endless_sentence_is_cut_at_a_word_boundary() -> None:
    parsed = parse_reply("word " * 300, ME, [OTHER])
    assert parsed.action == "speak"
    assert len(parsed.text) <= 401
    assert parsed.text.endswith("word…")


def test_round_robin_over_any_number_of_participants() -> None:
    assert speaker_order(2, 5) == [0, 1, 0, 1, 0]
    assert speaker_order(3, 7) == [0, 1, 2, 0, 1, 2, 0]
    with pytest.raises(ValueError):
        speaker_order(0, 3)
