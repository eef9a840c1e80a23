"""postcart.literature."""
