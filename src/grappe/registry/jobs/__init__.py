"""Detection runs started from the administrator's page, kept in the database across server processes."""
