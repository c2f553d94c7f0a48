"""Entry point for `python -m knowledge_base`."""

from knowledge_base.cli import cli

cli()
