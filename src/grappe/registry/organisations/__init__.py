"""Organisations: legal units with their establishments and contacts, owned by the cluster that created them."""
