"""postcart.stats."""
