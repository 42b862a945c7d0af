"""The steps of the order cycle, one module of generator processes per group of steps."""
