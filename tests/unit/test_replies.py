"""Replies (issue 22, part 1): the signed reply address, and reading a reply over a corpus of real-shaped messages
(Gmail, Outlook, iPhone, Japanese mail clients and auto-replies, opt-outs in both languages, delivery reports)."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nurture.domain.replies.address import UnknownReplyAddress, read_reply_address, reply_address
from nurture.domain.replies.reading import EXCERPT_CHARS, MAX_MESSAGE_BYTES, UnreadableReply, read_reply
from nurture.local.replies import receipt_event
from nurture.local.resources import LocalResources

REPO = Path(__file__).resolve().parents[2]

LEAD = "0123456789abcdef0123456789abcdef"
MESSAGE = "fedcba9876543210fedcba9876543210"
KEY, OLD_KEY = b"k" * 32, b"o" * 32


def test_a_reply_address_names_its_lead_and_email_fits_an_address_and_survives_case_changes():
    address = reply_address(LEAD, MESSAGE, KEY, "reply.example.co.jp")
    local = address.partition("@")[0]
    assert len(local) <= 64 and local.startswith("r+") and local == local.lower()
    assert read_reply_address(address, [KEY]) == (LEAD, MESSAGE[:16])
    assert read_reply_address(address.upper(), [KEY]) == (LEAD, MESSAGE[:16])
    assert read_reply_address(reply_address(LEAD, MESSAGE, OLD_KEY, "r.example"), [KEY, OLD_KEY])[0] == LEAD


@pytest.mark.parametrize("address", [
    "r+aaaa@reply.example.co.jp", "sales@example.co.jp", "r+!!!!@x", "",
    reply_address(LEAD, MESSAGE, b"another key" * 3, "reply.example.co.jp"),
])
def test_an_address_we_did_not_sign_names_nobody(address):
    with pytest.raises(UnknownReplyAddress):
        read_reply_address(address, [KEY])


def test_a_tampered_tag_names_nobody():
    address = reply_address(LEAD, MESSAGE, KEY, "reply.example.co.jp")
    local, _, domain = address.partition("@")
    flipped = local[:-1] + ("a" if local[-1] != "a" else "b")
    with pytest.raises(UnknownReplyAddress):
        read_reply_address(f"{flipped}@{domain}", [KEY])


def mail(body: str, subject: str = "Re: 【ご案内】リードナーチャリング入門", headers: str = "",
         content_type: str = 'text/plain; charset="UTF-8"', encoding: str = "utf-8",
         sender: str = "山田 太郎 <yamada@example.co.jp>") -> bytes:
    """A raw message as a mail client sends it (CRLF lines); `body` is written with plain newlines."""
    head = (f"From: {sender}\r\nTo: r+abc@reply.example.co.jp\r\nSubject: {subject}\r\n"
            "Date: Thu, 3 Dec 2026 10:05:00 +0900\r\nMessage-ID: <reply-1@mail.example.co.jp>\r\n"
            "In-Reply-To: <sent-1@example.co.jp>\r\nReferences: <first@example.co.jp> <sent-1@example.co.jp>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n{headers}")
    return (head + "\r\n" + body.replace("\n", "\r\n")).encode(encoding)


GMAIL_JA = mail("資料ありがとうございます。\n来週お打ち合わせできますか？\n\n"
                "2026年12月3日(木) 10:00 Nurture <news@example.co.jp>:\n\n"
                "> 山田様\n> 配信停止はこちら: https://example.co.jp/u/xyz\n")
OUTLOOK_EN = mail("Thanks, please call me on Monday.\n\nBest regards,\n\n-----Original Message-----\n"
                  "From: Nurture <news@example.co.jp>\nSent: Thursday, December 3, 2026 10:00 AM\n"
                  "Subject: Guide\n\nTo unsubscribe, click here.\n", subject="RE: Guide")
IPHONE = mail("Sounds good, send the price list\n\niPhoneから送信\n\n"
              "2026/12/03 10:00、Nurture <news@example.co.jp>のメッセージ:\n\n> unsubscribe\n")
GMAIL_HTML = mail("--b\nContent-Type: text/html; charset=UTF-8\n\n"
                  "<div dir=ltr>見積もりをお願いします<br></div><br><div class=gmail_quote>"
                  "<blockquote class=gmail_quote>配信停止はこちら</blockquote></div>\n--b--\n",
                  content_type='multipart/alternative; boundary="b"')
ISO_2022_JP = mail("お世話になっております。\n詳しい資料をください。\n",
                   content_type='text/plain; charset="ISO-2022-JP"', encoding="iso-2022-jp")


@pytest.mark.parametrize(("raw", "excerpt"), [
    (GMAIL_JA, "資料ありがとうございます。\n来週お打ち合わせできますか？"),
    (OUTLOOK_EN, "Thanks, please call me on Monday.\n\nBest regards,"),
    (IPHONE, "Sounds good, send the price list"),
    (GMAIL_HTML, "見積もりをお願いします"),
    (ISO_2022_JP, "お世話になっております。\n詳しい資料をください。"),
])
def test_a_persons_reply_is_what_they_wrote_without_the_quoted_email(raw, excerpt):
    reply = read_reply(raw)
    assert (reply.kind, reply.excerpt) == ("person", excerpt)
    assert reply.in_reply_to == ["sent-1@example.co.jp", "first@example.co.jp"]
    assert reply.recipients == ["r+abc@reply.example.co.jp"]


@pytest.mark.parametrize(("raw", "why"), [
    (mail("12月28日から1月5日まで不在にしております。", subject="自動返信: Re: ご案内",
          headers="Auto-Submitted: auto-replied\r\n"), "auto-submitted"),
    (mail("I am out of the office until January 5.", subject="Automatic reply: Guide",
          headers="X-Auto-Response-Suppress: All\r\n"), "subject"),
    (mail("ただいま休暇をいただいております。", subject="不在のお知らせ"), "subject"),
    (mail("12月28日まで不在にしております。急ぎの方は担当までご連絡ください。"), "body"),
    (mail("Away", headers="X-Autoreply: yes\r\n"), "x-autoreply"),
    (mail("Away", headers="Precedence: auto_reply\r\n"), "precedence"),
])
def test_an_automatic_reply_is_told_apart_by_its_headers_subject_or_words(raw, why):
    reply = read_reply(raw)
    assert (reply.kind, reply.why) == ("automatic", why)


@pytest.mark.parametrize("body", ["今後のメール配信を停止してください。", "メール不要です。送らないでください",
                                  "Please unsubscribe me from this list.", "Remove me.", "配信停止希望"])
def test_a_request_to_stop_in_the_persons_own_words_is_an_opt_out(body):
    assert read_reply(mail(body + "\n\n> 以前のメール本文\n")).kind == "opt_out"


def test_an_empty_reply_whose_subject_asks_to_stop_is_an_opt_out():
    assert read_reply(mail("", subject="Re: 配信停止")).kind == "opt_out"


def test_a_delivery_report_is_one_whoever_it_comes_from():
    report = mail("--r\nContent-Type: text/plain\n\nDelivery to the following recipient failed.\n"
                  "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
                  "Final-Recipient: rfc822; gone@example.co.jp\nAction: failed\nStatus: 5.1.1\n--r--\n",
                  subject="Undeliverable: Guide",
                  content_type='multipart/report; report-type=delivery-status; boundary="r"',
                  sender="Mail Delivery System <MAILER-DAEMON@mx.example>")
    assert read_reply(report).kind == "delivery_report"
    assert read_reply(mail("", subject="配信不能: ご案内", sender="postmaster@mx.example.jp")).kind == "delivery_report"


def test_the_excerpt_is_capped_and_drops_a_signature():
    reply = read_reply(mail("あ" * 2000 + "\n-- \n山田 太郎\n株式会社サンプル"))
    assert len(reply.excerpt) == EXCERPT_CHARS
    assert read_reply(mail("ご連絡します\n-- \n山田 太郎\n株式会社サンプル 03-0000-0000")).excerpt == "ご連絡します"


@pytest.mark.parametrize("raw", [
    b"\x00\x01 not mail at all",
    b"",
    mail("x", content_type='text/plain; charset="x-no-such-charset"'),
    b"From: a@b\r\nSubject: big\r\n\r\n" + b"a" * (MAX_MESSAGE_BYTES + 1),
])
def test_a_message_too_large_or_unreadable_is_refused_safely(raw):
    with pytest.raises(UnreadableReply):
        read_reply(raw)


def test_the_local_runtime_hands_the_replies_function_the_event_shape_aws_documents():
    documented = json.loads((REPO / "events" / "replies-receipt.json").read_text(encoding="utf-8"))
    raw = mail("ありがとうございます", headers=f"Cc: {reply_address(LEAD, MESSAGE, KEY, 'reply.nurture.example')}\r\n")
    local = receipt_event(raw, "ses-message-id", datetime(2026, 12, 7, 1, 30, tzinfo=UTC), LocalResources())

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items() if key != "headers"}
        return [shape(value[0])] if isinstance(value, list) and value and isinstance(value[0], dict) else type(value)

    assert shape(local) == shape(documented)
    (record,) = local["Records"]
    assert record["ses"]["receipt"]["recipients"] == [reply_address(LEAD, MESSAGE, KEY, "reply.nurture.example")]
    assert record["ses"]["mail"]["timestamp"] == "2026-12-07T01:30:00.000Z"
