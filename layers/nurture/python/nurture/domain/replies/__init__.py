"""Replies to the emails Nurture sends: their address, and reading what came back."""
