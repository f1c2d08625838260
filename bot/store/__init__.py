"""Persistence: the schema, the database handle and repository functions."""
