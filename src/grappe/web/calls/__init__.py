"""Calls for projects pages: call, application, review, committee."""
