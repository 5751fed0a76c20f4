"""Everything that knows MongoDB: pure compilers (query, stats, pagination) and the repository."""
