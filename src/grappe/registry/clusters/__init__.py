"""Cluster organisations: profiles, labels, funding, governance, the public directory and profiles."""
