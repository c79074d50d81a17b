"""Memberships: periods of organisations in cluster organisations, member lists, imports and exports."""
