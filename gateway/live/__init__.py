"""Live updates: one change feed per process, scoped to domains, matched against subscriptions
through the query compiler and the database, fanned out in memory (see docs/live-updates.md)."""
