"""The judge: verdicts on episodes (quality, cultural alignment, meta-review), the filter, per-turn intents."""
