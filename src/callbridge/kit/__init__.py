"""Shared plumbing: database, ids, clock, request bodies, times."""
