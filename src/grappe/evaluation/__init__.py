"""Evaluation: objectives contracts, indicators, results-based funding, scorecards, benchmarks, reports."""
