"""`culturesim train` through the real CLI entry point: clear bad-input messages, a tiny real run."""

from __future__ import annotations

import pytest
from trainer_runs import build_run

from simulator.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return {
        "selected": build_run(root / "selected", n_episodes=4),
        "unselected": build_run(root / "unselected", n_episodes=4, select=False),
        "root": root,
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["{unselected}", "--out", "{root}/a"],
            "no selected episodes: run culturesim select first or use --source kept",
        ),
        (["{selected}", "--tasks", "imitation,gossip", "--out", "{root}/a"], "unknown task 'gossip'"),
        (["{root}/missing", "--out", "{root}/a"], "no such directory"),
        (
            ["{selected}", "--culture", "german", "--out", "{root}/a"],
            "no selected episodes for culture 'german'",
        ),
        (["{selected}", "--task-weights", "intent=-1", "--out", "{root}/a"], "TASK=WEIGHT"),
        (["{selected}", "--rank", "0", "--out", "{root}/a"], "--rank"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(runs, capsys, argv, message):
    argv = [part.format(**runs) for part in argv]
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_options_become_the_training_config(runs):
    from simulator.cli import build_parser
    from trainer.train_command import _config

    argv = ["train", str(runs["selected"]), "--out", "x", "--tasks", "intent,imitation", "--rank", "16"]
    argv += ["--target-modules", "q_proj,v_proj", "--task-weights", "imitation=3,intent=1", "--lr", "1e-4"]
    config = _config(build_parser().parse_args(argv))
    assert config.tasks == ["intent", "imitation"] and config.rank == 16 and config.learning_rate == 1e-4
    assert config.target_modules == ["q_proj", "v_proj"]
    assert config.task_weights == {"imitation": 3.0, "intent": 1.0}
    assert config.source == "selected" and config.max_seq_len == 512 and not config.resume
