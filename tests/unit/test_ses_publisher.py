"""The local stand-in for SES's event publishing writes records our parser reads as SES's own."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from nurture.domain.ses_events import parse_record
from nurture.local.emulator import SentEmail
from nurture.local.ses_publisher import SesMail

SENT = datetime(2026, 12, 1, 1, 0, 0, 250_000, tzinfo=UTC)
TAGS = {"lead": "lead-1", "sequence": "warm_nurture", "step": "know_how", "message": "m1"}


def a_mail() -> SesMail:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = "news@example.com", "taro@Example.co.jp", "件名"
    email.set_content("本文")
    return SesMail.of(SentEmail("ses-1", email.as_bytes(), TAGS), "nurture-local", SENT)


def test_every_kind_the_simulation_publishes_reads_back_as_that_kind_with_the_senders_tags():
    mail, later = a_mail(), SENT + timedelta(minutes=3)
    records = {"send": mail.send(), "delivery": mail.delivery(later), "bounce": mail.bounce(later),
               "complaint": mail.complaint(later), "open": mail.open(later, "Mozilla/5.0", "192.0.2.1"),
               "click": mail.click(later, "https://example.co.jp/a", "Mozilla/5.0", "192.0.2.1")}
    for kind, record in records.items():
        (event,) = parse_record(record)
        assert (event.kind, event.ses_message_id) == (kind, "ses-1") and TAGS.items() <= event.tags.items()
        assert event.recipient == "taro@example.co.jp" and event.sent_at == SENT
        assert event.occurred_at == (SENT if kind == "send" else later)
    (bounce,) = parse_record(records["bounce"])
    assert bounce.permanent_failure and bounce.bounce_type == "Permanent"
