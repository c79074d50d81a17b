"""Calls for partners (recherche de partenaires): postings, interests, notifications."""
