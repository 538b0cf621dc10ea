"""Accounts: the companies leads belong to, and their buying groups (issue 24)."""
