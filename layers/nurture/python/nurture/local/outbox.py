"""The local mail outbox: what the emulator's SES accepted, saved as .eml and browsable over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html import escape
from pathlib import Path
from urllib.parse import parse_qs

from nurture.domain.clock import utc_now
from nurture.local import emulator
from nurture.local.gateway import Page
from nurture.local.replies import reply_message

REPLY_TEXT = "こんにちは。詳しくお話を伺えますか。"  # what the reply form holds until the developer writes their own


class Outbox:
    def __init__(self, directory: Path, region: str,
                 on_sent: Callable[[emulator.SentEmail], None] = lambda email: None,
                 on_reply: Callable[[bytes], dict[str, int]] | None = None):
        self.directory = directory
        self._region = region
        self._on_sent = on_sent  # once per email, whoever collects it first (the sender's poll or a page view)
        self._on_reply = on_reply  # a reply written on an email's page, as SES receiving would hand it over
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
        return Page(200, "text/html; charset=utf-8",
                    _rendered(file.stem, _parse(file.read_bytes()), self._on_reply is not None).encode())

    def reply(self, method: str, path: str, body: bytes) -> Page | None:
        """`POST /_outbox/<n>/reply` (a form's `text`): the email's recipient answers it; the page says what the
        replies function made of it."""
        number = path.removeprefix("/_outbox/").removesuffix("/reply")
        file = self.directory / f"{number}.eml"
        if method != "POST" or not path.endswith("/reply") or not number.isdigit() or not file.is_file() or \
                self._on_reply is None:
            return None
        text = (parse_qs(body.decode("utf-8", "replace")).get("text") or [""])[0].strip() or REPLY_TEXT
        outcomes = self._on_reply(reply_message(_parse(file.read_bytes()), text, utc_now()))
        shown = ", ".join(f"{escape(outcome)}: {count}" for outcome, count in outcomes.items())
        return Page(200, "text/html; charset=utf-8", (
            f"<!doctype html><html><head><meta charset='utf-8'><title>Reply</title></head><body>"
            f"<p><a href='/_outbox'>Outbox</a> · <a href='/_outbox/{number}'>the email</a></p>"
            f"<p>The replies function: <strong id='outcome'>{shown}</strong></p></body></html>").encode())

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


def _rendered(number: str, message: EmailMessage, replies: bool) -> str:
    """The email's headers above its HTML part, whose links point back at the local API; a form to answer it as
    its recipient when it has a Reply-To."""
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    body = html_part.get_content() if html_part is not None else \
        f"<pre>{escape(text_part.get_content() if text_part is not None else '')}</pre>"
    headers = "".join(f"<tr><th>{escape(name)}</th><td>{escape(str(message[name]))}</td></tr>"
                      for name in ("From", "To", "Reply-To", "Subject", "Date", "List-Unsubscribe",
                                   "List-Unsubscribe-Post")
                      if message[name])
    form = (f"<form method='post' action='/_outbox/{escape(number)}/reply'><p><label>Reply as the recipient "
            f"<textarea name='text' rows='3' cols='60'>{escape(REPLY_TEXT)}</textarea></label> "
            f"<button type='submit'>Send reply</button></p></form>") if replies and message["Reply-To"] else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Email {escape(number)}</title></head><body>"
            f"<p><a href='/_outbox'>Outbox</a></p><table>{headers}</table>{form}<hr>{body}</body></html>")
