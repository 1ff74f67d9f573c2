"""Designing scenarios and personas with a model: drafting, LLM culture adaptation, persona fleshing-out.

This package sits in the simulator wing because it needs the backends; `scenarios/` and `personas/`
(lower wings) reach it only through lazy imports inside command handlers.

How a draft becomes a record (drafting.py): the model is asked for a JSON object, the object is
cut out of whatever surrounds it, merged with the fields the code owns (ids, category, culture,
provenance) and validated by the same schema and checks as a hand-written file. An invalid draft
is asked for again, with the validation errors fed back and a new seed. Drafts still invalid after
the retries are filled field by field (strategy "json+fields"): the code builds the structure and the
model writes one text at a time, and categorical fields (relationship, personality levels, values)
are read from the model's option probabilities. A draft that fails all of it is reported, with the
raw text, and never saved. Strategy "auto" (the default) goes straight to field by field for the
embedded 135M model, which cannot hold a whole JSON record together, and uses json+fields otherwise.
"""
