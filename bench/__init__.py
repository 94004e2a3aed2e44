"""Benchmarks (not timed tests): each prints its figures and ratios measured in one run."""
