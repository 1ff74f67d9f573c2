"""Distribution and agreement metrics, with their conventions fixed in one place.

Conventions (also printed in every report):
- KL divergence is KL(survey || model) = sum_i p_i * ln(p_i / q_i), in nats (natural log). This direction
  punishes a model that gives little probability to answers people actually give.
- Before KL, both distributions are smoothed: every option gets EPSILON added and the vector is
  renormalised, so an option the model (or the survey) gives zero mass never makes KL infinite.
- Jensen-Shannon distance is the square root of the JS divergence in base 2, so it lies in [0, 1]
  (0 identical, 1 disjoint). It is finite without smoothing and is computed on the raw distributions.
- Individual accuracy is the share of a respondent's answered questions where the model's most
  probable option equals the respondent's answer, averaged over respondents.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

EPSILON = 1e-6

METRIC_NOTES = (
    f"KL = KL(survey || model) in nats (natural log), both distributions smoothed with epsilon={EPSILON:g} "
    "per option and renormalised.",
    "JSD = Jensen-Shannon distance: sqrt of the JS divergence in base 2, in [0, 1], no smoothing.",
    "Individual accuracy = share of a respondent's answered questions where the model's most probable "
    "option equals the respondent's answer, averaged over respondents.",
)


def normalise(weights: Sequence[float]) -> list[float]:
    total = float(sum(weights))
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError("a distribution needs non-negative weights with a positive sum")
    return [float(w) / total for w in weights]


def smooth(distribution: Sequence[float], epsilon: float = EPSILON) -> list[float]:
    return normalise([p + epsilon for p in distribution])


def kl_divergence(survey: Sequence[float], model: Sequence[float], epsilon: float = EPSILON) -> float:
    """KL(survey || model) in nats; `epsilon=0` gives the unsmoothed value (inf where model is 0)."""
    _check_lengths(survey, model)
    p = smooth(survey, epsilon) if epsilon > 0 else normalise(survey)
    q = smooth(model, epsilon) if epsilon > 0 else normalise(model)
    total = 0.0
    for p_i, q_i in zip(p, q):
        if p_i == 0:
            continue
        if q_i == 0:
            return math.inf
        total += p_i * math.log(p_i / q_i)
    return max(total, 0.0)  # rounding can leave -1e-17 for identical inputs


def js_divergence(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen-Shannon divergence in bits (base 2), in [0, 1]."""
    _check_lengths(p, q)
    p, q = normalise(p), normalise(q)
    middle = [(a + b) / 2 for a, b in zip(p, q)]

    def kl2(x: Sequence[float]) -> float:
        return sum(x_i * math.log2(x_i / m_i) for x_i, m_i in zip(x, middle) if x_i > 0)

    return max((kl2(p) + kl2(q)) / 2, 0.0)


def js_distance(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen-Shannon distance (base 2): sqrt of `js_divergence`, in [0, 1]."""
    return math.sqrt(js_divergence(p, q))


def answer_distribution(answers: Iterable[int], options: Sequence[int]) -> list[float]:
    """Share of each option among the answers (answers outside `options` are a caller bug)."""
    index = {option: i for i, option in enumerate(options)}
    counts = [0] * len(options)
    for answer in answers:
        counts[index[answer]] += 1
    return normalise(counts)


def mean_distribution(distributions: Sequence[Sequence[float]]) -> list[float]:
    """The culture-level model distribution: the average of per-respondent option probabilities."""
    if not distributions:
        raise ValueError("no distributions to average")
    width = len(distributions[0])
    return normalise([sum(d[i] for d in distributions) / len(distributions) for i in range(width)])


def argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def individual_accuracy(matches: Mapping[str, Sequence[bool]]) -> float:
    """Mean over respondents of the share of their answers the model matched; NaN if nobody answered."""
    shares = [sum(hits) / len(hits) for hits in matches.values() if hits]
    return sum(shares) / len(shares) if shares else math.nan


def mean(values: Iterable[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else math.nan


def _check_lengths(p: Sequence[float], q: Sequence[float]) -> None:
    if len(p) != len(q):
        raise ValueError(f"distributions differ in length ({len(p)} vs {len(q)})")
