"""The live terminal view: a run's state fed by engine events or by a run store, rendered with rich."""
