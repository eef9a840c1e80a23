"""postcart.literature.readers."""
