"""Evaluation: objectives contracts, yearly indicators, results-based funding, scorecards, benchmarks, reports."""
