"""The local mail outbox: what the emulator's SES accepted, saved as .eml and browsable over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html import escape
from pathlib import Path

from nurture.local import emulator
from nurture.local.gateway import Page


class Outbox:
    def __init__(self, directory: Path, region: str,
                 on_sent: Callable[[emulator.SentEmail], None] = lambda email: None):
        self.directory = directory
        self._region = region
        self._on_sent = on_sent  # once per email, whoever collects it first (the sender's poll or a page view)
        self._seen = 0
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)

    def collect(self) -> list[emulator.SentEmail]:
        """Save what SES accepted since the last call, and hand each to `on_sent`; returns the new emails."""
        with self._lock:
            new = emulator.sent_emails(self._region, self._seen)
            self._seen += len(new)
            start = len(self.files())
            for offset, email in enumerate(new):
                (self.directory / f"{start + offset + 1:05d}.eml").write_bytes(email.raw)
                self._on_sent(email)
            return new

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("*.eml"))

    def messages(self) -> list[EmailMessage]:
        return [_parse(path.read_bytes()) for path in self.files()]

    def page(self, path: str) -> Page | None:
        """`/_outbox` lists the emails, `/_outbox/<n>` shows one rendered, `/_outbox/<n>.eml` is the raw file."""
        if path.rstrip("/") == "/_outbox":
            return Page(200, "text/html; charset=utf-8", self._index().encode())
        name = path.removeprefix("/_outbox/")
        raw = name.endswith(".eml")
        file = self.directory / (name if raw else f"{name}.eml")
        if "/" in name or not name.removesuffix(".eml").isdigit() or not file.is_file():
            return None
        if raw:
            return Page(200, "message/rfc822", file.read_bytes())
        return Page(200, "text/html; charset=utf-8", _rendered(file.stem, _parse(file.read_bytes())).encode())

    def _index(self) -> str:
        self.collect()
        rows = "".join(
            f"<tr><td><a href='/_outbox/{path.stem}'>{escape(str(message['Subject'] or ''))}</a></td>"
            f"<td>{escape(str(message['To'] or ''))}</td><td>{escape(str(message['Date'] or ''))}</td>"
            f"<td><a href='/_outbox/{path.stem}.eml'>.eml</a></td></tr>"
            for path, message in reversed(list(zip(self.files(), self.messages(), strict=True))))
        empty = "" if rows else "<p>No emails yet: they arrive when a lead's first step is due (see the README).</p>"
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>Outbox</title></head><body>"
                f"<h1>Outbox</h1><p>{len(self.files())} email(s), newest first; saved in {escape(str(self.directory))}"
                f"</p>{empty}<table><tr><th>Subject</th><th>To</th><th>Date</th><th></th></tr>{rows}</table>"
                f"</body></html>")


def _parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def _rendered(number: str, message: EmailMessage) -> str:
    """The email's headers above its HTML part, whose links point back at the local API."""
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    body = html_part.get_content() if html_part is not None else \
        f"<pre>{escape(text_part.get_content() if text_part is not None else '')}</pre>"
    headers = "".join(f"<tr><th>{escape(name)}</th><td>{escape(str(message[name]))}</td></tr>"
                      for name in ("From", "To", "Subject", "Date", "List-Unsubscribe", "List-Unsubscribe-Post")
                      if message[name])
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Email {escape(number)}</title></head><body>"
            f"<p><a href='/_outbox'>Outbox</a></p><table>{headers}</table><hr>{body}</body></html>")
