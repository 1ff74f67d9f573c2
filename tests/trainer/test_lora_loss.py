"""The completion-only loss itself: targets only, per example, same value from masked logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from simulator.backends.cpu_threads import cpu_threads
from trainer.multitask_trainer import TaskLossMeter, completion_loss, target_mask
from trainer.tokenization import IGNORE


def _batch():
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 11)
    labels = torch.tensor([[5, 3, IGNORE, 7, 1, IGNORE], [IGNORE, IGNORE, 2, 4, IGNORE, IGNORE]])
    return logits, labels


def test_loss_counts_target_tokens_only_and_per_example():
    logits, labels = _batch()
    per_example, tokens = completion_loss(logits, labels)
    assert tokens.tolist() == [3, 2]  # position 0 is never predicted
    expected_first = sum(F.cross_entropy(logits[0, t - 1 : t], labels[0, t : t + 1]) for t in (1, 3, 4))
    expected_second = sum(F.cross_entropy(logits[1, t - 1 : t], labels[1, t : t + 1]) for t in (2, 3))
    assert torch.allclose(per_example, torch.stack([expected_first, expected_second]))


def test_masked_logits_give_the_same_loss():
    logits, labels = _batch()
    mask = target_mask(labels)
    assert mask.sum() == 5
    masked = completion_loss(logits[mask], labels, mask)
    full = completion_loss(logits, labels)
    assert torch.allclose(masked[0], full[0]) and torch.equal(masked[1], full[1])


def test_task_meter_averages_per_token_and_per_task():
    meter = TaskLossMeter(2)
    meter.add(torch.tensor([0, 1, 0]), torch.tensor([6.0, 2.0, 3.0]), torch.tensor([2, 1, 1]))
    assert meter.means(["imitation", "intent"], "loss_") == {"loss_imitation": 3.0, "loss_intent": 2.0}
    meter.reset()
    assert meter.means(["imitation", "intent"], "loss_") == {}


def test_cpu_threads_honours_a_request_and_stays_within_the_cores():
    assert cpu_threads(3) == 3
    assert 1 <= cpu_threads(None) <= torch.get_num_threads()
