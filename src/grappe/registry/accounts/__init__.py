"""Accounts: users, API tokens, passwords and web sessions, the audit log."""
