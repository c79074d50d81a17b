"""The pages of B2B meetings: registration, wishes with suggestions, my agenda, the organiser's plan."""
