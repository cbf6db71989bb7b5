"""Task information: the dependency tree as text and as a table."""
