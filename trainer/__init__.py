"""From judged episodes to an adapter: the selector, the multi-task dataset builder, LoRA training."""
