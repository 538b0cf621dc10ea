"""Preferences: which kinds of email (subscription types) each lead receives, and how it chose."""
