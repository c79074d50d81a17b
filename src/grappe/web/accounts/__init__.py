"""Pages of accounts: sign-in and sign-out."""
