"""ordercycle.scenarios: the scenario schema, loader and the built-in scenarios."""
