"""postcart.decision."""
