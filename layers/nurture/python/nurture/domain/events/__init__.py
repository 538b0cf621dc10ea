"""Seminars and events (セミナー): registration for a session within its capacity or on its waitlist, and the
confirmation that carries the session's calendar file."""
