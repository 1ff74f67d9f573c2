"""The engine: backends, persona agents, turn protocol, batching, run store, judge, live UI, CLI."""
