"""The selector: a representative and distinctive subset of each culture's judged conversations (CAReDiO).

Modules, in data-flow order: `embeddings` (episode text -> unit vectors, cached per run), `scores`
(representativeness, distinctiveness, the coverage similarity), `greedy` (lazy greedy on
coverage + lambda * distinctiveness), `metrics` (the subset vs random subsets), `report`
(markdown, PNG, rich table) and `selector` (`select_run`, what `culturesim select` calls).
The formulas are in the docstrings of `scores` and `greedy`, and in every report.
"""

from trainer.selection.selector import SelectionSettings, select_run

__all__ = ["SelectionSettings", "select_run"]
