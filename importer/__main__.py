"""``python -m importer`` runs the CLI."""

from importer.cli import main

main()
