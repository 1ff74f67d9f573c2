"""The built-in persona library, user persona files and writing personas back out."""

from __future__ import annotations

from collections import Counter

import pytest

from personas.files import BadInputError
from personas.library import PERSONAS_PATH_ENV, get_persona, load_persona_file, load_personas, save_personas
from personas.sampler import sample_personas


def test_builtin_library_has_eight_personas_per_culture():
    personas = load_personas()
    assert Counter(p.culture for p in personas) == {
        c: 8 for c in ("british", "chinese", "german", "japanese", "mexican")
    }
    assert len({p.id for p in personas}) == len(personas)
    for persona in personas:
        assert persona.background and persona.secret and persona.values and persona.occupation_group
        assert persona.id.startswith(persona.culture + "-")


def test_filter_by_culture_accepts_a_country_name():
    assert {p.culture for p in load_personas("Japan")} == {"japanese"}
    assert get_persona("japanese-tanaka-hiroshi").name == "Tanaka Hiroshi"
    with pytest.raises(BadInputError, match="did you mean japanese-tanaka-hiroshi"):
        get_persona("japanese-tanaka-hirosi")


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".jsonl"])
def test_save_and_load_round_trip(tmp_path, suffix):
    personas = sample_personas("german", 6, seed=2)
    path = save_personas(personas, tmp_path / f"out{suffix}")
    assert load_persona_file(path) == personas


def test_user_persona_files_join_the_library(monkeypatch, tmp_path, write_file, make_persona):
    write_file("mine/extra.yaml", {"personas": [make_persona(id="user-ana")]})
    monkeypatch.setenv(PERSONAS_PATH_ENV, str(tmp_path / "mine"))
    assert "user-ana" in {p.id for p in load_personas("mexican")}
    clash = write_file("clash.yaml", [make_persona(id="mexican-diego-ramirez")])
    with pytest.raises(BadInputError, match="duplicate id"):
        load_personas(extra_paths=[clash])
