"""How well a model matches a culture: survey suites (WVS, opinion distributions), metrics, reports.

Python API (the CLI `culturesim evaluate` / `culturesim survey make` wraps the same functions):

- `evaluation.wvs.evaluate_wvs(backends, data_dir, culture, out_dir, configs=..., respondents=...)`
  (async: `run_wvs`) -> {"report": path, "configs": {name: {mean_kl, mean_jsd, individual_accuracy, ...}}}
- `evaluation.opinions.evaluate_opinions(backends, data_file, country, out_dir, ...)` (async: `run_opinions`)
- `evaluation.scoring.parse_configs(["base", "adapter"], adapter_dir)` and
  `evaluation.scoring.backend_factory("transformers")` build what `backends`/`configs` expect.
- `evaluation.survey_data.write_survey(culture, respondents, out_dir, seed)`: the generated survey set.
"""
