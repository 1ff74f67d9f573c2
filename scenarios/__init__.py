"""Where and why they speak: the Scenario schema, the base library, culture adaptation, importers."""
