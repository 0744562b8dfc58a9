"""Benchmarks: measured numbers, never timed assertions in tests."""
