"""How well a model matches a culture: survey suites (WVS, opinion distributions), metrics, reports."""
