"""The editors' side of the knowledge base: reading, checking and changing the FAQ files."""
