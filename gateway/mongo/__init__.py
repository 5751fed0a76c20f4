"""Everything that knows MongoDB: pure compilers (query, stats, pagination), the mapping of stored
documents to API values (documents), and the repository. Below both front doors and the schema;
it imports only settings, errors and leaf helpers (docs/architecture.md, Layers)."""
