"""Command-line tools around the knowledge base: the CLI, model conversion, evaluation, import."""
