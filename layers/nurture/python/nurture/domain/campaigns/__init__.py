"""Campaigns: newsletters and planned mails to a segment, scheduled, fanned out and sent once per lead."""
