"""``python -m postcart`` runs the CLI."""

from postcart.cli import main

main()
