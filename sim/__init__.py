"""ordercycle.sim: the SimPy model of the order management cycle, its runner and CLI."""
