"""Replies to the emails Nurture sends: their address, and reading what came back."""

# The activities a reply is recorded as: a person's answer (scored, stops step emails, tells the owner) and an
# automatic one (out of office: kept, scores nothing, stops nothing).
REPLY = "email_reply"
AUTOMATIC_REPLY = "email_auto_reply"
