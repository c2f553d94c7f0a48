"""Entry point for `python -m knowledge_base`."""

from knowledge_base.tools.cli import main

main()
