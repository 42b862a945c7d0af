"""HTTP decision service: the registered policies behind FastAPI (issue 6)."""
