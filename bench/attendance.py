"""Attendance import: rows per second of a Zoom webinar report read, and the DynamoDB calls per person marked
(counted on moto, whose transactions copy the whole table for their rollback: its speed is not DynamoDB's)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bench.calls import REPO, counted_dynamodb

PEOPLE = 5000  # a large webinar's attendee report
MARKED = 40  # people marked on moto, for the calls


def import_rates(people: int = PEOPLE, marked: int = MARKED) -> dict[str, float]:
    """Rows per second read (in-process), and calls per person marked, the first time and again. Every person is a
    lead registered for the session; three in four came (their report rows), one in four did not."""
    import boto3

    from nurture import keys
    from nurture.adapters.event_store import DynamoRegistrations
    from nurture.config import load_config
    from nurture.domain.events.attendance import read_attendance, record_attendance
    from nurture.domain.text import email_key
    from nurture.settings import runtime_settings
    from tests.attendance_reports import zoom_webinar_en

    config = load_config(REPO / "config")
    event_id, event = next(iter(config.events.events.items()))
    session = event.sessions[0]
    after = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
    rows = [(f"guest{n}@example.co.jp", "12/10/2026 01:58:12 PM" if n % 4 else None,
             "12/10/2026 03:00:00 PM" if n % 4 else None, 62 if n % 4 else 0) for n in range(people)]
    began = time.perf_counter()
    read_attendance(zoom_webinar_en(rows), event.time_zone)
    read_seconds = time.perf_counter() - began
    rows = rows[:marked]
    report = read_attendance(zoom_webinar_en(rows), event.time_zone)
    with counted_dynamodb() as counter:
        table = boto3.resource("dynamodb").Table(runtime_settings().table_name)
        with table.batch_writer() as batch:
            for n, (address, *_) in enumerate(rows):
                lead_id = f"lead{n}"
                batch.put_item(Item={"PK": keys.email_claim_pk(email_key(address)), "SK": keys.EMAIL_CLAIM_SK,
                                     "lead_id": lead_id})
                batch.put_item(Item={"PK": keys.lead_pk(lead_id), "SK": keys.PROFILE, "lead_id": lead_id})
                batch.put_item(Item={"PK": keys.event_pk(event_id), "SK": keys.registration_sk(lead_id),
                                     "lead_id": lead_id, "session": session.id, "status": "registered"})
        store = DynamoRegistrations(runtime_settings().table_name)
        first = counter.measure(lambda: record_attendance(event_id, event, session, report, store, after, 730))
        again = counter.measure(lambda: record_attendance(event_id, event, session, report, store, after, 730))
    return {"read_rows_per_second": people / read_seconds, "reads_per_person": first["reads"] / marked,
            "writes_per_person": first["writes"] / marked, "again_reads_per_person": again["reads"] / marked,
            "again_writes_per_person": again["writes"] / marked}


def markdown(rates: dict[str, float]) -> list[str]:
    return [
        "## Seminar attendance import",
        "",
        f"- A Zoom webinar attendee report of {PEOPLE:,} registrants (three in four came) is read at",
        f"  **{rates['read_rows_per_second']:,.0f} rows/s** in-process (decoding, sections, times, durations).",
        f"- Marking each person takes {rates['reads_per_person']:.2f} read and {rates['writes_per_person']:.2f} write "
        f"calls (counted on moto over {MARKED} people):",
        "  the address's claim (GetItem; a no-show needs none) and one transaction (the lead still there, the",
        "  once-only marker, the activity, the session's counter); the registrations are one query. Run again:",
        f"  {rates['again_reads_per_person']:.2f} reads and {rates['again_writes_per_person']:.2f} writes per person, "
        "each transaction refused by its marker, nothing changed.",
        "- Assumption for time: in AWS a person is those two round trips in sequence (~10 ms each in-region), so about",
        "  50 people/s from a machine in the region; moto's own speed is not reported (its transactions copy the",
        "  whole table for their rollback).",
    ]


if __name__ == "__main__":
    print("\n".join(markdown(import_rates())))
