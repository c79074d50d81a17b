"""Cooperation pages: projects, events, business between members, the network."""
