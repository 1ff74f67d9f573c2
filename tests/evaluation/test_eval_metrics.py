"""The metric functions agree with scipy and follow the documented conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from evaluation import metrics


def random_pairs(count: int = 200, seed: int = 7):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        width = int(rng.integers(2, 12))
        yield rng.dirichlet(np.ones(width)).tolist(), rng.dirichlet(np.full(width, 0.5)).tolist()


def test_js_distance_matches_scipy_base_2():
    for p, q in random_pairs():
        assert metrics.js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=1e-9)


def test_unsmoothed_kl_matches_scipy_entropy_in_nats():
    for p, q in random_pairs():
        assert metrics.kl_divergence(p, q, epsilon=0) == pytest.approx(entropy(p, q), rel=1e-9, abs=1e-12)


def test_smoothed_kl_is_kl_of_smoothed_distributions():
    for p, q in random_pairs(50):
        expected = entropy(metrics.smooth(p), metrics.smooth(q))
        assert metrics.kl_divergence(p, q) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_kl_direction_is_survey_given_model():
    survey, model = [0.9, 0.1], [0.5, 0.5]
    assert metrics.kl_divergence(survey, model, epsilon=0) == pytest.approx(entropy(survey, model))
    assert metrics.kl_divergence(survey, model) != pytest.approx(metrics.kl_divergence(model, survey))


def test_smoothing_keeps_kl_finite_where_the_model_gives_zero():
    assert math.isinf(metrics.kl_divergence([0.5, 0.5], [1.0, 0.0], epsilon=0))
    assert 0 < metrics.kl_divergence([0.5, 0.5], [1.0, 0.0]) < 10


def test_js_distance_bounds():
    assert metrics.js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert metrics.js_distance([0.3, 0.7], [0.3, 0.7]) == pytest.approx(0.0, abs=1e-7)
    assert metrics.kl_divergence([0.3, 0.7], [0.3, 0.7]) == pytest.approx(0.0, abs=1e-12)


def test_unnormalised_counts_are_normalised_first():
    assert metrics.js_distance([2, 6], [1, 3]) == pytest.approx(0.0, abs=1e-7)
    assert metrics.kl_divergence([2, 6], [0.25, 0.75]) == pytest.approx(0.0, abs=1e-12)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="length"):
        metrics.js_distance([0.5, 0.5], [0.2, 0.3, 0.5])


def test_individual_accuracy_averages_respondents_not_answers():
    # Pooled over answers this would be 3/5; per respondent it is (3/4 + 0/1) / 2.
    matches = {"a": [True, True, True, False], "b": [False], "nobody": []}
    assert metrics.individual_accuracy(matches) == pytest.approx(0.375)
    assert math.isnan(metrics.individual_accuracy({"x": []}))


def test_answer_and_mean_distributions():
    assert metrics.answer_distribution([1, 1, 3, 2], [1, 2, 3, 4]) == [0.5, 0.25, 0.25, 0.0]
    assert metrics.mean_distribution([[1.0, 0.0], [0.5, 0.5]]) == pytest.approx([0.75, 0.25])
    assert metrics.argmax([0.1, 0.7, 0.2]) == 1
