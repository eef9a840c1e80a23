"""postcart.evidence."""
