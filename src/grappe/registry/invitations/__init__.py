"""Invitations: how a cluster organisation reaches an organisation of another tenant."""
