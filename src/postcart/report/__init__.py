"""postcart.report."""
