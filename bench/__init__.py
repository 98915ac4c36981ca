"""Benchmarks: speed and memory targets, reported as numbers (never timed unit tests)."""
