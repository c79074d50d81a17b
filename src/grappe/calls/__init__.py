"""Calls for projects: applications, review (reviewer assignment) and selection."""
