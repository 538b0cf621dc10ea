"""Telling the owner at once: one alert per channel of the salesperson a handoff went to (for a queue, its team's
lead), written for that channel. Whatever the lead typed is shown as one plain line that no channel turns into a
link, a mention or markup."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from msgspec import Struct

from nurture.config.sales import EMAIL, SalesConfig, Salesperson
from nurture.domain.clock import iso
from nurture.domain.errors import NurtureError
from nurture.domain.handoff import HandoffMessage
from nurture.domain.messages import Message
from nurture.domain.sales.webhooks import WebhookTarget, signed_post
from nurture.domain.text import rendered_value

AlertKind = Literal["handoff", "reminder", "escalation", "reply"]
EVENTS: dict[str, str] = {"handoff": "handoff.created", "reminder": "handoff.reminder",
                          "escalation": "handoff.escalated", "reply": "lead.replied"}  # the webhook's Nurture-Event
REPLY_SHOWN = 200  # characters of a reply's excerpt an alert shows
REASONS_SHOWN = 3
ACTIVITIES_SHOWN = 5


class AlertJob(Message, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One alert to deliver: the alerts queue's message."""

    alert_id: str  # the handoff, what about, the person and the channel: the same for every retry
    kind: AlertKind = "handoff"
    recipient: str  # the salesperson's id
    channel: str  # email, or a webhook's id
    handoff: HandoffMessage
    excerpt: str | None = None  # a reply alert's: what the person wrote, as the reply was read (raw: shown escaped)


def alert_jobs(handoff: HandoffMessage, sales: SalesConfig, kind: AlertKind = "handoff",
               recipient: str | None = None, occasion: str = "", excerpt: str | None = None) -> list[AlertJob]:
    """One job per channel of `recipient` (by default whoever a new handoff tells). `occasion` tells apart two
    alerts of one kind about one handoff to one person (two deadlines, after a lead came back to them)."""
    recipient = recipient or alerted(handoff, sales)
    if recipient is None or recipient not in sales.people:
        return []
    suffix = "" if kind == "handoff" else f".{kind}{occasion}"
    return [AlertJob.of(alert_id=f"{handoff.handoff_id}{suffix}.{recipient}.{channel}", kind=kind, recipient=recipient,
                     channel=channel, handoff=handoff, excerpt=excerpt)
            for channel in dict.fromkeys(sales.people[recipient].channels)]


def alerted(handoff: HandoffMessage, sales: SalesConfig) -> str | None:
    """The salesperson told of a handoff: its owner, or the lead of the team that watches its queue."""
    owner = handoff.owner
    if owner is None:
        return None
    if owner.kind == "person":
        return owner.id if owner.id in sales.people else None
    queue = sales.queues.get(owner.id)
    team = sales.teams.get(queue.team) if queue and queue.team else None
    return team.lead if team and team.lead in sales.people else None


class AlertText(Struct, frozen=True):
    """The alert's words in the recipient's language, each line plain text."""

    title: str
    lead: str
    facts: list[str]
    reasons: list[str]
    activities: list[str]
    link: str


_WORDS = {
    "ja": {"title": "ホットリードの担当になりました", "queue": "キュー「{queue}」にホットリードが入りました",
           "reminder": "ホットリードのフィードバック期限を過ぎました",
           "escalation": "担当者のフィードバックがないホットリード",
           "reply": "担当のリードからメールに返信がありました", "replied": "返信: {excerpt}",
           "owner_now": "担当: {owner}",
           "rank": "ランク {rank} / スコア {total:g} (属性 {fit:g}, 行動 {engagement:g})",
           "why_owner": "担当の理由: {reason}", "reasons": "ホットになった理由", "activities": "最近の行動",
           "unnamed": "(名前なし)", "pattern": "パターン", "open": "リードを開く"},
    "en": {"title": "A hot lead is yours", "queue": "A hot lead is waiting in the queue '{queue}'",
           "reminder": "A hot lead is waiting for your verdict",
           "escalation": "A hot lead has no verdict from its owner",
           "reply": "Your lead replied to an email", "replied": "Reply: {excerpt}",
           "owner_now": "Owner: {owner}",
           "rank": "Rank {rank} / score {total:g} (fit {fit:g}, engagement {engagement:g})",
           "why_owner": "Why you: {reason}", "reasons": "Why it is hot", "activities": "Recent activity",
           "unnamed": "(no name)", "pattern": "pattern", "open": "Open the lead"},
}


def alert_text(handoff: HandoffMessage, person: Salesperson, kind: AlertKind = "handoff",
               excerpt: str | None = None) -> AlertText:
    words = _WORDS[person.language]
    contact, company, owner = handoff.contact, handoff.company, handoff.owner
    who = " / ".join(part for part in (rendered_value(contact.name), rendered_value(contact.title),
                                       rendered_value(company.name)) if part) or words["unnamed"]
    if kind != "handoff":
        title = words[kind]
    elif owner is None or owner.kind == "person":
        title = words["title"]
    else:
        title = words["queue"].format(queue=rendered_value(owner.name or owner.id))
    facts = [words["rank"].format(rank=handoff.rank, **handoff.scores.as_data())]
    if rendered_value(excerpt):  # a reply's own words (nothing shown when they hold a link)
        facts.append(words["replied"].format(excerpt=rendered_value(excerpt)[:REPLY_SHOWN]))
    if owner is not None and kind == "escalation":
        facts.append(words["owner_now"].format(owner=rendered_value(owner.name or owner.id)))
    elif owner is not None:
        facts.append(words["why_owner"].format(reason=rendered_value(owner.reason)))
    reasons = [f"{words['pattern']}: {rendered_value(p.reason)}" for p in handoff.reasons.patterns]
    reasons += [f"{rendered_value(r.reason)} (+{r.points:g})" for r in handoff.reasons.top]
    activities = [" ".join(part for part in (str(a.get("occurred_at", ""))[:16].replace("T", " "),
                                             rendered_value(a.get("type")),
                                             rendered_value(a.get("form_id") or a.get("url_group") or ""))
                           if part)
                  for a in handoff.activities[:ACTIVITIES_SHOWN]]
    return AlertText(title=title, lead=who, facts=facts, reasons=reasons[:REASONS_SHOWN], activities=activities,
                     link=handoff.links.lead)


class AlertEmail(Struct, frozen=True):
    subject: str  # our words, the queue's name and the rank: nothing the lead typed goes into a header
    text: str


def alert_email(handoff: HandoffMessage, person: Salesperson, kind: AlertKind = "handoff",
                excerpt: str | None = None) -> AlertEmail:
    text = alert_text(handoff, person, kind, excerpt)
    words = _WORDS[person.language]
    lines = [f"{rendered_value(person.name)}", "", text.title, "", text.lead, *text.facts, "",
             f"{words['reasons']}:", *(f"- {line}" for line in text.reasons), "",
             f"{words['activities']}:", *(f"- {line}" for line in text.activities), "",
             f"{words['open']}: {text.link}"]
    return AlertEmail(subject=f"[Nurture] {text.title} ({handoff.rank})", text="\n".join(lines) + "\n")


def slack_payload(handoff: HandoffMessage, person: Salesperson, kind: AlertKind = "handoff",
                  excerpt: str | None = None) -> dict[str, Any]:
    """Block Kit with the lead's words in plain_text objects (Slack parses no links or mentions there); the
    notification's fallback `text` is mrkdwn, so it is escaped as Slack asks (&, <, >)."""
    text = alert_text(handoff, person, kind, excerpt)
    words = _WORDS[person.language]
    body = "\n".join([text.lead, *text.facts, f"{words['reasons']}:", *(f"・{line}" for line in text.reasons)])
    return {
        "text": _slack_escaped(f"{text.title}: {text.lead}"),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": text.title[:150]}},
            {"type": "section", "text": {"type": "plain_text", "text": body[:3000]}},
            {"type": "context", "elements": [{"type": "plain_text", "text": line[:2000]}
                                             for line in text.activities[:ACTIVITIES_SHOWN]] or
             [{"type": "plain_text", "text": "-"}]},
            {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": words["open"]},
                                              "url": text.link}]},
        ],
    }


def _slack_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams_payload(handoff: HandoffMessage, person: Salesperson, kind: AlertKind = "handoff",
                  excerpt: str | None = None) -> dict[str, Any]:
    """An Adaptive Card whose lead's words are TextRuns, which Teams shows as typed (TextBlocks would read them as
    markdown, links included)."""
    text = alert_text(handoff, person, kind, excerpt)
    words = _WORDS[person.language]

    def runs(line: str, **style: Any) -> dict[str, Any]:
        return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": line, **style}]}

    lines = [runs(text.title, weight="Bolder", size="Medium"), runs(text.lead, weight="Bolder"),
             *(runs(fact) for fact in text.facts), runs(f"{words['reasons']}:", weight="Bolder"),
             *(runs(f"・{line}") for line in text.reasons), runs(f"{words['activities']}:", weight="Bolder"),
             *(runs(f"・{line}") for line in text.activities)]
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                    "version": "1.4", "body": lines,
                    "actions": [{"type": "Action.OpenUrl", "title": words["open"], "url": text.link}]}}]}


def generic_payload(job: AlertJob) -> dict[str, Any]:
    """The handoff as sales tooling receives it from the queue (docs/handoff.md), with who was told."""
    return {"type": EVENTS[job.kind], "delivery_id": job.alert_id, "recipient": job.recipient,
            "handoff": job.handoff.as_data(),
            **({"reply": {"excerpt": job.excerpt}} if job.excerpt is not None else {})}


def payload_for(kind: str, job: AlertJob, person: Salesperson) -> dict[str, Any]:
    if kind == "slack":
        return slack_payload(job.handoff, person, job.kind, job.excerpt)
    if kind == "teams":
        return teams_payload(job.handoff, person, job.kind, job.excerpt)
    return generic_payload(job)


def is_email(job: AlertJob) -> bool:
    return job.channel == EMAIL


class AlertNotDelivered(NurtureError):
    """This alert could not be delivered now (a webhook answered an error or not at all, its secret is missing,
    SES refused): it is tried again later, and after a few tries it waits in the dead-letter queue.
    `maybe_sent`: SES may have taken the email (a timeout, a 5xx), so it must not be sent again."""

    def __init__(self, reason: str, maybe_sent: bool = False):
        super().__init__(reason)
        self.maybe_sent = maybe_sent


class AlertRefused(NurtureError):
    """SES refused this alert for good (an address it will not send to): retrying cannot help."""


class AlertStore(Protocol):
    def lead_exists(self, lead_id: str) -> bool: ...

    def claim_alert(self, lead_id: str, alert_id: str, at: str) -> bool: ...

    def release_alert(self, lead_id: str, alert_id: str) -> None: ...

    def alert_delivered(self, lead_id: str, alert_id: str) -> bool: ...

    def mark_alert_delivered(self, lead_id: str, alert_id: str, at: str) -> None: ...


class AlertMailer(Protocol):
    def send_alert(self, recipient: str, email: AlertEmail, alert_id: str) -> None: ...


class WebhookPoster(Protocol):
    def target(self, webhook_id: str) -> WebhookTarget: ...

    def post(self, url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> None: ...


def deliver(job: AlertJob, sales: SalesConfig, store: AlertStore, mailer: AlertMailer, poster: WebhookPoster,
            now: datetime) -> str:
    """Once per alert: an email is claimed before it is sent (at most once, as step emails are); a webhook is
    posted until it answers 2xx, then marked, and receivers drop a repeat by its delivery id (at least once)."""
    person = sales.people.get(job.recipient)
    if person is None:
        return "skipped_unknown_recipient"  # left sales.yaml since: nobody to tell
    lead_id, at = job.handoff.lead_id, iso(now)
    if not store.lead_exists(lead_id):
        return "skipped_erased"  # nothing of an erased lead goes out, or is written again
    if is_email(job):
        if not store.claim_alert(lead_id, job.alert_id, at):
            return "duplicate"
        try:
            mailer.send_alert(person.email, alert_email(job.handoff, person, job.kind, job.excerpt), job.alert_id)
        except AlertNotDelivered as failed:
            if not failed.maybe_sent:
                store.release_alert(lead_id, job.alert_id)  # SES surely did not take it: the retry sends it
            raise
        except AlertRefused:
            return "refused"
        return "sent"
    webhook = sales.webhooks.get(job.channel)
    if webhook is None:
        return "skipped_unknown_channel"
    if store.alert_delivered(lead_id, job.alert_id):
        return "duplicate"
    target = poster.target(job.channel)
    body, headers = signed_post(target, payload_for(webhook.kind, job, person), job.alert_id, EVENTS[job.kind],
                                int(now.timestamp()))
    poster.post(target.url, body, headers)
    store.mark_alert_delivered(lead_id, job.alert_id, at)
    return "delivered"
