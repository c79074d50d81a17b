"""The partners' pages: partner search, profiles, calls for partners."""
