"""Model configurations and the backend pool that serves them (pure logic, fake backends)."""

from __future__ import annotations

import asyncio

import pytest
from eval_fakes import FixedDistributionScorer

from evaluation.scoring import BackendPool, ModelConfig, ordered_by_backend, parse_configs
from personas.files import BadInputError


def test_default_configurations_add_the_adapter_when_given():
    assert [c.name for c in parse_configs(None, None)] == ["base", "persona"]
    configs = parse_configs(None, "lora/jp")
    assert [(c.name, c.adapter, c.persona) for c in configs] == [
        ("base", None, False),
        ("persona", None, True),
        ("adapter", "lora/jp", False),
    ]
    assert parse_configs(["adapter+persona"], "lora/jp") == [ModelConfig("adapter+persona", "lora/jp", True)]


def test_unknown_configuration_is_bad_input():
    with pytest.raises(BadInputError, match="unknown configuration 'tuned'"):
        parse_configs(["base", "tuned"], None)


def test_configurations_sharing_weights_run_together():
    configs = parse_configs(["adapter", "base", "adapter+persona", "persona"], "lora")
    assert [c.name for c in ordered_by_backend(configs)] == ["adapter", "adapter+persona", "base", "persona"]


class ClosableScorer(FixedDistributionScorer):
    def __init__(self, adapter):
        super().__init__({})
        self.adapter, self.closed = adapter, False

    async def aclose(self):
        self.closed = True


def test_pool_loads_each_adapter_once_and_closes_what_it_made():
    made: list[ClosableScorer] = []

    def factory(config: ModelConfig) -> ClosableScorer:
        made.append(ClosableScorer(config.adapter))
        return made[-1]

    async def walk():
        pool = BackendPool(factory)
        for config in ordered_by_backend(parse_configs(["base", "adapter", "persona"], "lora")):
            await pool.get(config)
        await pool.aclose()

    asyncio.run(walk())
    assert [b.adapter for b in made] == [None, "lora"] and all(b.closed for b in made)


def test_pool_never_closes_a_backend_it_was_given():
    given = ClosableScorer(None)

    async def use():
        pool = BackendPool(given)
        assert await pool.get(ModelConfig("base")) is given
        with pytest.raises(BadInputError, match="needs a backend factory"):
            await pool.get(ModelConfig("adapter", adapter="lora"))
        await pool.aclose()

    asyncio.run(use())
    assert not given.closed
