"""Cooperation between organisations: links, collaborative projects, business, and their network."""
