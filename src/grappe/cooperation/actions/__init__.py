"""Collective actions and shared services of a cluster: events and their registrations, shared equipment."""
