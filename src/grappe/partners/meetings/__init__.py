"""Stored B2B meetings (rendez-vous d'affaires): events, participants, wishes, schedules and agendas."""
