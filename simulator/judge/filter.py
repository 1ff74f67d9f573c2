"""Which judged episodes are kept for training: CLCA's rule, configurable.

CLCA drops a conversation when the judge says its quality is bad with high confidence, or when the
meta-review says the judge's own review is bad with high confidence. "High confidence" is the band
'very confident' (probability >= 0.8) by default; the threshold is a parameter. Optionally an
episode must also be judged aligned with its culture.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.records import Verdict

VERY_CONFIDENT = 0.8  # the lower edge of Verdict.confidence_band's 'very confident'


@dataclass(frozen=True)
class FilterRule:
    confidence_threshold: float = VERY_CONFIDENT
    require_alignment: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence_threshold <= 1.0:
            raise ValueError(f"confidence threshold must be in [0, 1], got {self.confidence_threshold}")

    def confidently(self, verdict: Verdict, label: str) -> bool:
        return verdict.label == label and verdict.confidence >= self.confidence_threshold

    def keep(self, quality: Verdict, alignment: Verdict, meta_review: Verdict) -> bool:
        if self.confidently(quality, "bad") or self.confidently(meta_review, "bad"):
            return False
        return not self.require_alignment or alignment.label == "aligned"

    def describe(self) -> str:
        rule = f"drop when quality or meta-review is 'bad' with confidence >= {self.confidence_threshold:g}"
        return rule + ("; keep only episodes judged aligned" if self.require_alignment else "")
