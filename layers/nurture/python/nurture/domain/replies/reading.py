"""Reading a reply: the raw MIME message parsed with the standard library, told apart (a person's reply, an
automatic one, a request to stop, a delivery report), and cut down to what the person wrote (quoted history and
signature removed, length capped). Pure: bytes in, a Reply out; nothing of the body is logged."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Literal

from msgspec import Struct

ReplyKind = Literal["person", "automatic", "opt_out", "delivery_report"]
MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # SES receiving takes up to 40 MB; a reply is text, a larger one is refused
EXCERPT_CHARS = 500
SUBJECT_CHARS = 200  # a subject is kept with the reply: long enough to recognise, never a message's size
TEXT_READ = 64 * 1024  # what a person wrote is at the top: the rest (quoted history, forwarded mail) is not read

# RFC 3834 and what mail systems actually send (Exchange, Gmail's vacation responder, Japanese groupware).
_AUTOMATIC_HEADERS = {"x-autoreply", "x-autorespond", "x-auto-response"}
_AUTOMATIC_PRECEDENCE = {"auto_reply", "auto-reply", "junk", "bulk", "list"}
_AUTOMATIC_SUBJECT = re.compile(r"自動返信|自動応答|不在|out of (the )?office|automatic reply|auto(matic)?[- ]?reply|"
                                r"^auto:|vacation|休暇", re.IGNORECASE)
_AUTOMATIC_BODY = re.compile(r"不在にしております|不在のため|休暇(を|の)|自動返信|自動応答|"
                             r"I am (currently )?out of (the )?office|I'm (currently )?out of (the )?office",
                             re.IGNORECASE)
_DELIVERY_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)
_DELIVERY_SUBJECT = re.compile(r"undeliver|delivery status notification|mail delivery (failed|failure)|"
                               r"returned mail|配信不能|配送(エラー|失敗)|送信できませんでした", re.IGNORECASE)
# What asks us to stop, in what the person wrote (never in the quoted email, whose footer says 配信停止 too).
_OPT_OUT = re.compile(r"配信(を)?(停止|中止|不要)|配信しないで|送らないで|メール(は)?不要|"
                      r"(メール|案内)を?(止めて|停止)|購読(を)?(解除|停止)|"
                      r"\bunsubscribe\b|\bremove me\b|\bstop (sending|emailing)\b|\bopt[- ]?out\b", re.IGNORECASE)
# Where the quoted history starts: Gmail, Apple Mail and Outlook, in Japanese and English.
_QUOTE_START = re.compile(
    r"^(On .{0,200} wrote:|.{0,200}\d{4}年\d{1,2}月\d{1,2}日.{0,100}:\s*$|"
    r".{0,200}<[^<>\s]{1,64}@[^<>\s]{1,255}>\s*(wrote|のメッセージ):?|"
    r"-{2,}\s*(Original Message|元のメッセージ|Forwarded message|転送されたメッセージ)\s*-{2,}|"
    r"(From|差出人|送信者)\s*[:：].+|_{10,})", re.IGNORECASE | re.MULTILINE)
_REPLY_PREFIX = re.compile(r"^((re|fw|fwd|返信|転送)\s*[:：]\s*)+", re.IGNORECASE)
_SIGNATURE = re.compile(r"^(-- ?|—+|─{3,}|-{3,}|={3,}|＿{3,}|━{3,}|Sent from my .+|iPhoneから送信)$", re.MULTILINE)


class UnreadableReply(ValueError):
    """Too large, or not a MIME message: refused safely, stored nowhere."""


class Reply(Struct, frozen=True):
    kind: ReplyKind
    why: str  # what told the kind apart (a header's name, "subject", "body"): a log field, never the text itself
    excerpt: str  # what the person wrote, without quotes or signature, at most EXCERPT_CHARS
    recipients: list[str]  # the addresses it was sent to (ours among them: the reply address)
    in_reply_to: list[str]  # the message ids it answers (In-Reply-To, then References), angle brackets removed
    subject: str
    sender: str = ""  # the From address: forgeable, so it only narrows a search by the ids above


def read_reply(raw: bytes) -> Reply:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise UnreadableReply(f"larger than {MAX_MESSAGE_BYTES} bytes")
    message = message_from_bytes(raw, policy=policy.default)
    if not isinstance(message, EmailMessage) or not message.keys():
        raise UnreadableReply("no headers")
    try:
        subject = str(message.get("subject", "") or "")
        sender = str(message.get("from", "") or "")
        recipients = [address for _, address in getaddresses(
            [str(value) for name in ("to", "cc", "delivered-to", "x-original-to") for value in
             message.get_all(name, [])]) if address]
        threads = [*_ids(message.get("in-reply-to")), *_ids(message.get("references"))]
        text = _text_of(message)[:TEXT_READ]
    except (LookupError, ValueError, TypeError) as error:  # an unknown charset, a malformed header or part
        raise UnreadableReply(f"malformed: {type(error).__name__}") from error
    written = excerpt(text)
    kind, why = _kind(message, sender, subject, written, text)
    return Reply(kind, why, written, recipients, list(dict.fromkeys(threads)), subject[:SUBJECT_CHARS],
                 _address(sender))


def _kind(message: EmailMessage, sender: str, subject: str, written: str, text: str) -> tuple[ReplyKind, str]:
    if message.get_content_type() == "multipart/report" or _DELIVERY_SENDERS.match(_address(sender)):
        return "delivery_report", "sender" if _DELIVERY_SENDERS.match(_address(sender)) else "content-type"
    if _DELIVERY_SUBJECT.search(subject) and not written:
        return "delivery_report", "subject"
    auto_submitted = str(message.get("auto-submitted", "no")).strip().lower()
    if auto_submitted != "no":
        return "automatic", "auto-submitted"
    for header in _AUTOMATIC_HEADERS:
        if message.get(header) is not None:
            return "automatic", header
    if str(message.get("precedence", "")).strip().lower() in _AUTOMATIC_PRECEDENCE:
        return "automatic", "precedence"
    if _AUTOMATIC_SUBJECT.search(subject):
        return "automatic", "subject"
    if _AUTOMATIC_BODY.search(written or text[:EXCERPT_CHARS]):
        return "automatic", "body"
    if _OPT_OUT.search(written):
        return "opt_out", "body"
    if not written and _OPT_OUT.search(_REPLY_PREFIX.sub("", subject)):
        return "opt_out", "subject"  # an empty reply whose subject the person changed to say it
    return "person", "none"


def excerpt(text: str) -> str:
    """What the person wrote: the text before the quoted history and the signature, quoted lines dropped,
    blank runs folded, at most EXCERPT_CHARS characters."""
    quote = _QUOTE_START.search(text)
    own = text[:quote.start()] if quote else text
    signature = _SIGNATURE.search(own)
    own = own[:signature.start()] if signature else own
    lines = [line.rstrip() for line in own.splitlines() if not line.lstrip().startswith((">", "＞"))]
    folded = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return folded[:EXCERPT_CHARS]


def _text_of(message: EmailMessage) -> str:
    """The plain-text body, or the HTML one as text; attachments are not read."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if not isinstance(content, str):
        return ""
    content = content.replace("\r\n", "\n").replace("\r", "\n")  # as sent: CRLF lines
    return _html_text(content) if part.get_content_type() == "text/html" else content


def _html_text(html: str) -> str:
    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skipping = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("style", "script", "blockquote"):
                self.skipping += 1  # a blockquote is the quoted history in Gmail's and Outlook's HTML
            elif tag in ("br", "p", "div", "tr", "li"):
                self.parts.append("\n")

        def handle_endtag(self, tag: str) -> None:
            if tag in ("style", "script", "blockquote") and self.skipping:
                self.skipping -= 1

        def handle_data(self, data: str) -> None:
            if not self.skipping:
                self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return "".join(parser.parts)


def _ids(value: object) -> list[str]:
    return re.findall(r"<([^<>\s]+)>", str(value or ""))


def _address(value: str) -> str:
    found = getaddresses([value])
    return found[0][1] if found else ""
