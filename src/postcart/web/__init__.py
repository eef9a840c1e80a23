"""postcart.web."""
