"""Evaluation pages: scorecards, benchmarks, contracts, reports."""
