"""A member firm's pages: its organisation's profile and contacts, its clusters' member directories."""
