"""`culturesim select` on a small real run store, with the real MiniLM embedder.

The conversations are hand-written (this tests the selector, not the simulation): two cultures
with different themes, one brazil episode that reads like japan's, one episode per culture the
judge did not keep, and one copy of a japan episode under a different id.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.cli import main
from simulator.records import Episode, Judgement, Turn, Verdict
from simulator.store import RunStore
from trainer.selection.embeddings import EmbeddingCache, episode_segments, text_key

CONVERSATIONS = {
    "japan": [
        (
            "Tea ceremony with the host",
            ["Please accept this bowl of matcha.", "Thank you, I turn the tea bowl twice."],
        ),
        (
            "Tea house etiquette",
            ["Kneel on the tatami and bow before the tea.", "I will wait for the host to serve."],
        ),
        (
            "Gift at the tea gathering",
            ["I brought wagashi sweets for the tea.", "You are too kind, they suit the matcha."],
        ),
        (
            "Bowing to the tea master",
            ["We bow deeply to the tea master.", "Yes, and thank him for the green tea."],
        ),
        (
            "Tea bowl admiration",
            ["This tea bowl is beautiful, is it old?", "It belonged to my grandmother's tea room."],
        ),
        (
            "Declining a second cup of tea",
            ["Another bowl of matcha?", "Thank you, but one bowl of tea is enough."],
        ),
    ],
    "brazil": [
        (
            "Football at the barbecue",
            ["Flamengo scored, turn up the football!", "Bring more picanha, the match is on."],
        ),
        (
            "Football rivalry at work",
            ["Did you see Flamengo lose the match?", "Next week our football team wins."],
        ),
        (
            "Street football match",
            ["Pass the football, the goal is open!", "Goal! Barbecue at my house after."],
        ),
        (
            "World Cup party",
            ["Brazil plays at noon, wear the yellow shirt.", "Football and barbecue all afternoon!"],
        ),
        (
            "Football tickets for the derby",
            ["I got two tickets for the Maracana.", "Amazing, Fluminense against Flamengo!"],
        ),
        (
            "Tea ceremony in Sao Paulo",
            ["Please accept this bowl of matcha tea.", "Thank you, I bow and turn the tea bowl."],
        ),
    ],
}
PLANTED = "brazil-5"  # a brazil episode that reads like japan's: the least distinctive of its culture


def verdict(label: str) -> Verdict:
    return Verdict(label=label, confidence=0.9, probabilities={label: 0.9, "other": 0.1})


def write_run(run_dir: Path, judged: bool = True) -> dict[str, list[str]]:
    """A run store with the conversations above; returns the kept episode ids per culture."""
    kept: dict[str, list[str]] = {culture: [] for culture in CONVERSATIONS}
    with RunStore(run_dir) as store:
        for culture, conversations in CONVERSATIONS.items():
            extra = [("Not kept", ["bad"])] + ([conversations[0]] if culture == "japan" else [])
            for index, (title, lines) in enumerate(conversations + extra):
                episode_id = f"{culture}-{index}"
                turns = [
                    Turn(
                        index=i,
                        speaker=f"p{i % 2}",
                        speaker_name=f"P{i % 2}",
                        role="r",
                        action="speak",
                        text=line,
                    )
                    for i, line in enumerate(lines)
                ]
                store.save_episode(
                    Episode(
                        id=episode_id, scenario_id=f"s-{culture}-{index}", culture=culture, persona_ids=["p0", "p1"],
                        sample_index=0, seed=0, status="done", end_reason="max_turns", turns=turns,
                        scenario={"title": title}, finished_at=float(index),
                    )
                )  # fmt: skip
                if not judged:
                    continue
                keep = title != "Not kept"
                store.save_judgement(
                    Judgement(
                        episode_id=episode_id, quality=verdict("good"), alignment=verdict("aligned"),
                        meta_review=verdict("agree"), kept=keep, judge_model="test",
                    ),
                    intents={},
                )  # fmt: skip
                if keep:
                    kept[culture].append(episode_id)
    return kept


@pytest.fixture(scope="module")
def selected_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    run_dir = tmp_path_factory.mktemp("run")
    kept = write_run(run_dir)
    assert (
        main(
            [
                "select",
                str(run_dir),
                "--budget",
                "3",
                "--random-subsets",
                "20",
                "--seed",
                "1",
                "--neighbours",
                "4",
            ]
        )
        == 0
    )
    return run_dir, kept


def test_select_stores_every_kept_item_with_scores_and_a_ranked_subset(selected_run) -> None:  # noqa: ANN001
    run_dir, kept = selected_run
    with RunStore(run_dir) as store:
        for culture, ids in kept.items():
            rows = store.selection_rows(culture)
            assert sorted(row["episode_id"] for row in rows) == sorted(ids)
            assert all(
                0 <= row["representativeness"] <= 1 and 0 <= row["distinctiveness"] <= 1 for row in rows
            )
            chosen = [row for row in rows if row["selected"]]
            assert [row["rank"] for row in chosen] == [1, 2, 3]
            assert all(row["rank"] is None for row in rows if not row["selected"])
        # The copy of japan-0 (japan-7) never joins japan-0 in the subset.
        japan = {row["episode_id"] for row in store.selection_rows("japan") if row["selected"]}
        assert not {"japan-0", "japan-7"} <= japan
        brazil = {row["episode_id"]: row["distinctiveness"] for row in store.selection_rows("brazil")}
        assert min(brazil, key=brazil.__getitem__) == PLANTED
        assert brazil[PLANTED] < 0.5 < min(d for episode_id, d in brazil.items() if episode_id != PLANTED)


def test_select_writes_a_report_with_plots_and_caches_embeddings(selected_run) -> None:  # noqa: ANN001
    run_dir, _ = selected_run
    report = (run_dir / "selection" / "report.md").read_text()
    for text in ("## japan", "## brazil", "random mean", "Distinctiveness", "japan.png"):
        assert text in report
    assert (run_dir / "selection" / "japan.png").stat().st_size > 0
    assert (run_dir / "selection" / "brazil.png").stat().st_size > 0
    assert (run_dir / "selection" / "embeddings-minilm.npz").exists()


def test_select_one_culture_again_keeps_the_other_cultures_results(selected_run) -> None:  # noqa: ANN001
    run_dir, _ = selected_run
    assert (
        main(
            [
                "select",
                str(run_dir),
                "--culture",
                "japan",
                "--budget",
                "2",
                "--lambda",
                "2",
                "--random-subsets",
                "5",
            ]
        )
        == 0
    )
    with RunStore(run_dir) as store:
        assert sum(row["selected"] for row in store.selection_rows("japan")) == 2
        assert sum(row["selected"] for row in store.selection_rows("brazil")) == 3
    assert "## brazil" in (run_dir / "selection" / "report.md").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--culture", "atlantis"],
            "no kept episodes of culture 'atlantis' in this run (cultures: brazil, japan)",
        ),
        (["--budget", "50"], "lower --budget or pass --allow-smaller"),
        (["--lambda", "-1"], "--lambda: must be >= 0"),
        (["--budget", "0"], "--budget: must be >= 1"),
    ],
)
def test_bad_arguments_get_one_clear_line_and_exit_2(
    tmp_path: Path, capsys, extra: list[str], message: str
) -> None:  # noqa: ANN001
    write_run(tmp_path)
    assert main(["select", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    with RunStore(tmp_path) as store:
        assert store.selection_rows() == []


def test_a_run_without_judgements_or_no_run_at_all_is_refused(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    write_run(tmp_path / "unjudged", judged=False)
    assert main(["select", str(tmp_path / "unjudged")]) == 2
    assert "no judgements yet" in capsys.readouterr().err
    assert main(["select", str(tmp_path / "missing")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()


@pytest.mark.model
def test_select_with_the_backend_models_hidden_states(tmp_path: Path) -> None:
    write_run(tmp_path)
    args = ["select", str(tmp_path), "--budget", "3", "--embedder", "backend", "--neighbours", "4"]
    assert main([*args, "--random-subsets", "5"]) == 0
    assert (tmp_path / "selection" / "embeddings-backend.npz").exists()
    with RunStore(tmp_path) as store:
        brazil = {row["episode_id"]: row["distinctiveness"] for row in store.selection_rows("brazil")}
        assert min(brazil, key=brazil.__getitem__) == PLANTED
        assert sum(row["selected"] for row in store.selection_rows("japan")) == 3


def seed_embedding_cache(run_dir: Path, seed: int = 0) -> None:
    """Pre-computed vectors (one per distinct text) so `select` needs no embedding model (fast tests)."""
    rng = np.random.default_rng(seed)
    cache = EmbeddingCache(run_dir / "selection" / "embeddings-minilm.npz")
    by_text: dict[str, np.ndarray] = {}
    with RunStore(run_dir) as store:
        for episode in store.episodes():
            key = text_key(episode_segments(episode))
            vector = by_text.setdefault(key, rng.normal(size=8).astype(np.float32))
            cache.vectors[(episode.id, key)] = vector
    cache.save()


def test_a_one_culture_run_and_a_pool_of_one_item_still_get_a_selection(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        for index in range(2):
            store.save_episode(
                Episode(
                    id=f"e{index}", scenario_id="s", culture="solo", persona_ids=["p"], sample_index=index,
                    seed=0, status="done", end_reason="max_turns", scenario={"title": f"T{index}"},
                )
            )  # fmt: skip
            store.save_judgement(
                Judgement(
                    episode_id=f"e{index}", quality=verdict("good"), alignment=verdict("aligned"),
                    meta_review=verdict("agree"), kept=index == 0, judge_model="test",
                ),
                intents={},
            )  # fmt: skip
    seed_embedding_cache(tmp_path)
    assert main(["select", str(tmp_path), "--random-subsets", "3"]) == 0
    with RunStore(tmp_path) as store:
        [row] = store.selection_rows("solo")
    assert (row["episode_id"], row["selected"], row["rank"], row["distinctiveness"]) == ("e0", 1, 1, 1.0)
    assert "The run has one culture" in (tmp_path / "selection" / "report.md").read_text()


def test_allow_smaller_takes_the_whole_pool_without_copies(tmp_path: Path) -> None:
    kept = write_run(tmp_path)
    seed_embedding_cache(tmp_path)
    assert main(["select", str(tmp_path), "--budget", "50", "--allow-smaller", "--random-subsets", "3"]) == 0
    with RunStore(tmp_path) as store:
        assert sum(row["selected"] for row in store.selection_rows("brazil")) == len(kept["brazil"])
        japan = [row["episode_id"] for row in store.selection_rows("japan") if row["selected"]]
    # japan-7 is a copy of japan-0 (same text, same cached vector): only one of them is taken.
    assert len(japan) == len(kept["japan"]) - 1
    assert len({"japan-0", "japan-7"} & set(japan)) == 1
