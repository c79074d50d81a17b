"""Cooperation between organisations: links, projects, collective actions, business and the network."""
