"""The platform administrator's pages: users and roles, invitations, the audit log, detection runs."""
