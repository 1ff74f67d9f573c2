"""LoRA training on the real embedded model: the loss falls, adapters round-trip, runs resume."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from trainer_runs import build_run

from personas.files import BadInputError
from simulator.backends.cpu_threads import cpu_threads
from simulator.backends.embedded import embedded_model_dir
from trainer.config import TrainConfig
from trainer.examples import Example
from trainer.lora import choose_precision, load_lora_model, load_tokenizer
from trainer.multitask_trainer import accepts_logit_mask, completion_loss, target_mask
from trainer.tokenization import PaddingCollator, TokenizedDataset, tokenize_example
from trainer.training import CHECKPOINTS, MANIFEST, PLAN, train_adapter

pytestmark = pytest.mark.model

MODEL_DIR = str(embedded_model_dir())
# Two optimiser steps of one example each, one evaluation: small enough for a 2-core CI box.
TINY = TrainConfig(
    tasks=["imitation", "intent"],
    max_examples=2,
    max_eval_examples=1,
    eval_fraction=0.2,
    batch_size=1,
    grad_accum=1,
    max_seq_len=384,
    learning_rate=1e-3,
    warmup_ratio=0.0,
    save_steps=1,
    eval_steps=2,
)
SHORT_CHATS = [
    [
        {"role": "system", "content": "You are Hana, a polite host in Osaka."},
        {"role": "user", "content": "Kenji: Good evening. This is a small gift."},
        {"role": "assistant", "content": "Oh, you shouldn't have. *bows* Thank you."},
    ],
    [
        {"role": "system", "content": "You are Kenji, a guest in Osaka."},
        {"role": "user", "content": "Hana: Please come in."},
        {"role": "assistant", "content": "Thank you. Sorry to intrude. *takes off shoes*"},
    ],
]


@pytest.fixture(scope="module")
def fixed_batch():
    tokenizer = load_tokenizer(MODEL_DIR)
    examples = [Example("imitation", f"ep-{i}", messages) for i, messages in enumerate(SHORT_CHATS)]
    sequences = [s for e in examples for s in tokenize_example(tokenizer, e, 512)]
    dataset = TokenizedDataset(sequences, ["imitation"])
    batch = PaddingCollator(tokenizer.pad_token_id)([dataset[i] for i in range(len(dataset))])
    batch.pop("task_ids")
    return batch


def _autocast():
    """bf16 autocast where the CPU has it, as training uses it (twice as fast as fp32 there)."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=choose_precision("auto", "cpu") == "bf16")


def _logits(model, batch) -> torch.Tensor:
    with torch.no_grad(), _autocast():
        return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()


@pytest.fixture(scope="module")
def stepped(fixed_batch):
    """A fresh LoRA model after a few AdamW steps on one fixed batch, and its losses."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(cpu_threads(None))  # as train_adapter does: the idle cores
    torch.manual_seed(0)
    model = load_lora_model(MODEL_DIR, TINY.model_copy(update={"dropout": 0.0}), "fp32", "cpu")
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses = []
    for _ in range(3):
        with _autocast():
            outputs = model(input_ids=fixed_batch["input_ids"], attention_mask=fixed_batch["attention_mask"])
        sums, counts = completion_loss(outputs.logits, fixed_batch["labels"])
        loss = sums.sum() / counts.sum()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.eval()
    yield model, losses
    torch.set_num_threads(previous_threads)


def test_only_lora_weights_train(stepped):
    model, _ = stepped
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    for module in ("q_proj", "v_proj", "gate_proj", "down_proj"):
        assert any(f"{module}.lora_A" in name for name in trainable)


def test_a_few_steps_lower_the_loss_of_a_fixed_batch(stepped):
    _, losses = stepped
    assert losses[-1] < losses[0] - 0.1, losses


def test_saved_adapter_changes_the_model_and_round_trips_exactly(stepped, fixed_batch, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model, _ = stepped
    model.save_pretrained(tmp_path / "adapter")
    base = AutoModelForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32)
    base_logits = _logits(base, fixed_batch)
    reloaded = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    reloaded_logits = _logits(reloaded, fixed_batch)
    assert torch.equal(reloaded_logits, _logits(model, fixed_batch))
    assert (reloaded_logits - base_logits).abs().max() > 1e-2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    run = build_run(root / "run", n_episodes=6)
    result = train_adapter(run, root / "adapter", TINY)
    return run, root / "adapter", result


def test_train_adapter_writes_adapter_manifest_and_curves(trained):
    run, out, result = trained
    assert result.steps == 2 and result.n_train_examples == 2
    assert (out / "adapter_model.safetensors").exists() and (out / "adapter_config.json").exists()
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["data"]["hash"] == result.data_hash == json.loads((out / PLAN).read_text())["data_hash"]
    assert manifest["tasks"] == ["imitation", "intent"]
    assert manifest["lora"]["rank"] == 8 and manifest["base_model"]["name"] == "SmolLM2-135M-Instruct"
    assert len(manifest["base_model"]["sha256"]) == 64
    assert manifest["data"]["train_examples"] == sum(result.examples_per_task.values())
    rows = [json.loads(line) for line in (out / "dataset.jsonl").read_text().splitlines()]
    assert sum(row["split"] == "train" for row in rows) == 2
    logs = [json.loads(line) for line in (out / "losses.jsonl").read_text().splitlines()]
    train_task_losses = {key for log in logs for key in log if key.startswith("loss_")}
    assert train_task_losses and train_task_losses <= {"loss_imitation", "loss_intent"}
    assert any(key.startswith("eval_loss_") for log in logs for key in log)
    assert set(result.task_losses) <= {"imitation", "intent"} and result.task_losses
    assert result.loss_plot and result.loss_plot.stat().st_size > 10_000


def test_cli_summary_and_refusal_to_overwrite(trained, capsys):
    from rich.console import Console

    from simulator.cli import main
    from trainer.train_command import summary_table

    run, out, result = trained
    console = Console(record=True, width=120)
    console.print(summary_table(result))
    text = console.export_text()
    for task, loss in result.task_losses.items():
        assert task in text and f"{loss:.3f}" in text
    assert main(["train", str(run), "--out", str(out)]) == 2
    assert "already holds a trained adapter" in capsys.readouterr().err


def test_resume_continues_from_the_last_checkpoint(trained, tmp_path):
    run, out, result = trained
    copy = tmp_path / "adapter"
    shutil.copytree(out, copy)
    for name in (MANIFEST, "adapter_model.safetensors"):
        (copy / name).unlink()
    shutil.rmtree(copy / CHECKPOINTS / "checkpoint-2")  # as if killed during step 2
    resume = TINY.model_copy(update={"resume": True})
    with pytest.raises(BadInputError, match="--resume"):
        train_adapter(run, copy, TINY)
    with pytest.raises(BadInputError, match="training data changed"):
        train_adapter(run, copy, resume.model_copy(update={"max_examples": 1}))

    resumed = train_adapter(run, copy, resume)
    assert resumed.steps == 2 and resumed.data_hash == result.data_hash
    assert 0 < resumed.train_tokens < result.train_tokens  # only step 2 was trained again
    assert (copy / "adapter_model.safetensors").exists()

    assert train_adapter(run, copy, resume) == resumed  # finished: nothing left to do
    with pytest.raises(BadInputError, match="trained on other data"):
        train_adapter(run, copy, resume.model_copy(update={"max_examples": 1}))
    again = train_adapter(run, copy, TINY.model_copy(update={"overwrite": True}))
    assert again.steps == 2 and again.train_tokens == result.train_tokens  # from scratch


def test_adapter_loads_in_the_transformers_backend(trained):
    import asyncio

    from simulator.backends.base import OptionScoringRequest
    from simulator.backends.registry import create_backend

    _, out, _ = trained
    request = OptionScoringRequest(
        messages=[{"role": "user", "content": "Your guest offers a gift. What do you do?"}],
        options=["accept it with both hands", "refuse it"],
    )
    scores = []
    for adapter in (None, str(out)):
        backend = create_backend("transformers", adapter=adapter, dtype="float32")
        assert backend.describe()["adapter"] == adapter
        scores.append(asyncio.run(backend.score_options([request]))[0].logprobs)
    assert max(abs(a - b) for a, b in zip(*scores)) > 1e-3


def test_the_model_computes_the_same_logits_at_target_positions_only(stepped, fixed_batch):
    model, _ = stepped
    mask = target_mask(fixed_batch["labels"])
    inputs = {"input_ids": fixed_batch["input_ids"], "attention_mask": fixed_batch["attention_mask"]}
    assert accepts_logit_mask(model)
    with torch.no_grad():
        masked = model(**inputs, logits_to_keep=mask).logits
        full = model(**inputs).logits
    assert masked.shape == (int(mask.sum()), full.shape[-1])
    assert torch.allclose(masked, full[mask], atol=1e-4)
