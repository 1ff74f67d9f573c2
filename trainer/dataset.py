"""From a run directory to the training and evaluation examples of one adapter.

Episodes come from the run store: the selector's subset (`source="selected"`, the default) or all
judged-and-kept episodes (`source="kept"`). Whole episodes are held out for evaluation, the
training side is mixed per task (examples.mix), and the exact examples are written to
`dataset.jsonl` in the adapter directory, which `datasets.load_dataset("json", ...)` reads.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from personas.files import BadInputError
from simulator.records import Episode, Judgement
from simulator.store import DB_NAME, RunStore
from trainer.config import TrainConfig
from trainer.examples import Example, build_pools, data_hash, mix, split_episode_ids


@dataclass
class TrainingData:
    train: list[Example]
    eval: list[Example]
    episodes: int
    cultures: list[str | None]
    pool_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        return data_hash([*self.train, *self.eval])

    def counts(self, split: str = "train") -> dict[str, int]:
        return dict(Counter(example.task for example in getattr(self, split)))

    def write_jsonl(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as out:
            for split in ("train", "eval"):
                for example in getattr(self, split):
                    out.write(json.dumps({"split": split, **example.to_json()}, ensure_ascii=False) + "\n")


def open_run(run_dir: str | Path) -> RunStore:
    run_dir = Path(run_dir)
    if not (run_dir / DB_NAME).exists():
        reason = "no such directory" if not run_dir.exists() else f"no run store ({DB_NAME}) in it"
        raise BadInputError(run_dir, f"{reason}; give the directory of a simulated and judged run")
    return RunStore(run_dir, readonly=True)


def load_episodes(store: RunStore, config: TrainConfig) -> list[tuple[Episode, Judgement | None]]:
    where = f" for culture '{config.culture}'" if config.culture else ""
    if config.source == "selected":
        episodes = list(store.selected_episodes(config.culture))
        if not episodes:
            raise BadInputError(
                store.run_dir,
                f"no selected episodes{where}: run culturesim select first or use --source kept",
            )
    else:
        episodes = list(store.kept_episodes(config.culture))
        if not episodes:
            raise BadInputError(store.run_dir, f"no kept episodes{where}: run culturesim judge first")
    cultures = sorted({episode.culture or "" for episode in episodes})
    if len(cultures) > 1:
        raise BadInputError(
            "--culture",
            f"the {config.source} episodes span several cultures ({', '.join(cultures)}); "
            "an adapter is for one culture: choose it with --culture",
        )
    return [(episode, store.judgement(episode.id)) for episode in episodes]


def build_training_data(run_dir: str | Path, config: TrainConfig) -> TrainingData:
    with open_run(run_dir) as store:
        judged = load_episodes(store, config)
    train_ids, eval_ids = split_episode_ids([e.id for e, _ in judged], config.eval_fraction, config.seed)
    pool_args = (config.tasks, config.max_context_turns)
    train_pools = build_pools([pair for pair in judged if pair[0].id in train_ids], *pool_args)
    eval_pools = build_pools([pair for pair in judged if pair[0].id in eval_ids], *pool_args)
    pool_sizes = {task: len(train_pools[task]) + len(eval_pools[task]) for task in config.tasks}
    for task, size in pool_sizes.items():
        if size == 0:
            raise BadInputError("--tasks", f"no examples for task '{task}' in {run_dir}: {_why_empty(task)}")
    train = mix(train_pools, config.task_weights, config.max_examples, config.seed)
    if not train:
        raise BadInputError(run_dir, "no training examples could be built from the episodes")
    # Evaluation keeps natural proportions: per-task losses are reported per task anyway.
    evaluation = mix(eval_pools, None, config.max_eval_examples, config.seed + 1)
    return TrainingData(
        train=train,
        eval=evaluation,
        episodes=len(judged),
        cultures=sorted({e.culture for e, _ in judged}, key=str),
        pool_sizes=pool_sizes,
    )


def _why_empty(task: str) -> str:
    return {
        "imitation": "the episodes have no turns",
        "intent": "no turn has an intent label (the judge labels intents: run culturesim judge) "
        "or drop 'intent' from --tasks",
        "reasoning": "no judgement has a critique; drop 'reasoning' from --tasks",
    }[task]
