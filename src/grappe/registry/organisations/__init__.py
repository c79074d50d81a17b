"""Organisations: legal units with their establishments and contacts, owned by their creator."""
