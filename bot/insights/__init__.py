"""Insights for the people who run the line: anonymous counts, and the admins' page and API."""
