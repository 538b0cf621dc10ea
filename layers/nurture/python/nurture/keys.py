"""Key layout of the single table (see docs/data-model.md)."""

from __future__ import annotations

import hashlib

PROFILE = "PROFILE"
ERASURE_SK = "ERASURE"  # while a lead is being erased: what the sweep still has to delete (address hash, vids)


def lead_pk(lead_id: str) -> str:
    return f"LEAD#{lead_id}"


def email_claim_pk(email_key: str) -> str:
    return f"EMAIL#{email_key}"


EMAIL_CLAIM_SK = "EMAIL"


def visitor_pk(vid: str) -> str:
    return f"VISITOR#{vid}"


VISITOR_IDENTITY_SK = "IDENTITY"


def visitor_rate_sk(minute: str) -> str:
    """How many events a visitor id stored in one minute: its quota's count."""
    return f"RATE#{minute}"


def event_sk(occurred_at: str, event_id: str) -> str:
    return f"EVT#{occurred_at}#{event_id}"


EVENT_PREFIX = "EVT#"


def recorded_id_sk(client_id: str) -> str:
    """Under a lead: that an activity with this client-supplied id was recorded (offline activity is once per id)."""
    return f"RECORDED#{client_id}"


def consent_sk(recorded_at: str, event_id: str) -> str:
    return f"CONSENT#{recorded_at}#{event_id}"


def dedupe_pk(dedupe_key: str) -> str:
    return f"DEDUPE#{dedupe_key}"


DEDUPE_SK = "DEDUPE"

LEDGER_PREFIX = "SCORE#"
HANDOFF_PREFIX = "HANDOFF#"
CONSENT_PREFIX = "CONSENT#"


def ledger_sk(occurred_at: str, event_id: str, rule_id: str) -> str:
    return f"{LEDGER_PREFIX}{occurred_at}#{event_id}#{rule_id}"


def handoff_sk(handoff_id: str) -> str:
    return f"{HANDOFF_PREFIX}{handoff_id}"


def round_robin_pk(team: str) -> str:
    """A sales team's round-robin position: how many leads it has been given in turn."""
    return f"ROUTING#{team}"


ROUND_ROBIN_SK = "ROUND_ROBIN"


def owner_pk(salesperson: str) -> str:
    return f"OWNER#{salesperson}"


OWNER_LOAD_SK = "LOAD"  # how many handoffs the salesperson has open (least-loaded routing reads it)


def owned_pk(owner: str) -> str:
    """The by_owner index's partition: the leads of one salesperson or queue."""
    return f"OWNED#{owner}"


def owned_sk(stage: str, since: str, lead_id: str) -> str:
    """A stage's leads together, newest first with `ScanIndexForward=False`: `since` is when the lead reached
    its stage or its owner, whichever came later."""
    return f"{stage}#{since}#{lead_id}"


TASK_PREFIX = "TASK#"


def task_sk(cycle: int) -> str:
    """A lead's call task of one nurture cycle (one at most)."""
    return f"{TASK_PREFIX}{cycle:06d}"


def tasks_pk(owner: str) -> str:
    """The by_owner index's partition of a salesperson's or queue's call tasks."""
    return f"TASKS#{owner}"


def task_owned_sk(status: str, due: str, task_id: str) -> str:
    """Open tasks together, soonest due first; then closed ones."""
    return f"{status}#{due}#{task_id}"


FEEDBACK_SK = "FEEDBACK"  # under a lead: its open handoff's verdict deadline (one handoff is open at a time)
FEEDBACK_DUE = "DUE#FEEDBACK"  # the due index's partition of verdict deadlines


def alert_sk(alert_id: str) -> str:
    """An alert to a salesperson sent or delivered, under the lead it was about."""
    return f"ALERT#{alert_id}"


ACCOUNT_PREFIX = "ACCOUNT#"


ACCOUNT_ID_PATTERN = "^[0-9a-f]{32}$"  # what account_id gives: the API's and the CLI's check of an account id


def account_id(account_key: str) -> str:
    """A company's id, a hash of its folded name (or "@domain"): a one-person company's name can be a person's."""
    return hashlib.sha256(account_key.encode()).hexdigest()[:32]


def account_pk(account_key: str) -> str:
    """A company's partition: its owner, and an item per lead that belongs to it."""
    return account_id_pk(account_id(account_key))


def account_id_pk(account: str) -> str:
    """The same partition, from the id the sales API shows."""
    return f"{ACCOUNT_PREFIX}{account}"


ACCOUNT_OWNER_SK = "OWNER"
# The scorer's record of the account: its patterns' marks and firings, and its standing as of its people's last
# activity (in the by_rank index, under account_rank_pk, for listing accounts by rank).
ACCOUNT_STATE_SK = "STATE"
# What a segment on a lead's company reads of the account's state: its standing.
ACCOUNT_STANDING_READ = ("PK", "rank", "people", "buying_group", "fired")
# Sales merged the account into another (`into`: its key; `from`: this one's): its people moved there, and a lead
# whose company names this one joins that one.
ACCOUNT_MERGED_SK = "MERGED"


def account_rank_pk(rank: str) -> str:
    return f"ACCOUNTS#{rank}"


MEMBER_PREFIX = "MEMBER#"


def member_sk(lead_id: str) -> str:
    """Under an account: that a lead belongs to it (the scorer writes it when the lead's company or address says
    so, and moves it when they change)."""
    return f"{MEMBER_PREFIX}{lead_id}"


PURCHASE_PREFIX = "PURCHASE#"


def purchase_sk(order_id: str) -> str:
    """Under a customer's lead: one order, kept as long as the lead (RFM and CPM read every purchase)."""
    return f"{PURCHASE_PREFIX}{order_id}"


def order_pk(order_id: str) -> str:
    """That an order was recorded, whoever bought it: an order id counts once. Its hash names it: no lead's."""
    return f"ORDER#{hashlib.sha256(order_id.encode()).hexdigest()[:32]}"


ORDER_SK = "ORDER"
# Under a customer's lead: when its RFM scores and CPM segment are next to be worked out (a purchase: at once; else
# the day a score or segment moves by time alone), in the sparse due index like a verdict deadline.
CUSTOMER_REVIEW_SK = "CUSTOMER"
CUSTOMERS_DUE = "DUE#CUSTOMERS"
# How many customers have each order count, total and month of last purchase (domain.customers.distribution): one
# item, moved by each review in the transaction that saves it; no lead in it, so erasure only lowers its counts.
CUSTOMER_DISTRIBUTION_PK = "CUSTOMERS#DISTRIBUTION"
CUSTOMER_DISTRIBUTION_SK = "COUNTS"
# For each product, how many customers bought each other product after it (domain.customers.next_product).
CUSTOMERS_NEXT_PK = "CUSTOMERS#NEXT"


def next_products_sk(product: str) -> str:
    """A product's item: named by its hash, as a product's name may be long or hold any character."""
    return "FROM#" + hashlib.sha256(product.encode()).hexdigest()[:32]


def revenue_pk(month: str) -> str:
    """A month's orders and revenue (YYYY-MM of the purchase date), with no lead in them: erasure keeps them."""
    return f"REVENUE#{month}"


def suppression_pk(email_key: str) -> str:
    return f"SUPPRESS#{email_key}"


SUPPRESSION_SK = "SUPPRESS"


DUE_SHARDS = 4  # spreads the due index's writes; the dispatcher queries each shard


def due_pk(lead_id: str) -> str:
    return f"DUE#{bucket(lead_id, DUE_SHARDS)}"


def due_sk(next_send_at: str, lead_id: str) -> str:
    return f"{next_send_at}#{lead_id}"

def send_sk(message_id: str) -> str:
    """The sender's marker for one step email: written before SES is called, so it goes out at most once."""
    return f"SEND#{message_id}"


STATS_SHARDS = 8  # a step's counters are spread over this many items, so concurrent sends rarely collide


CAMPAIGN_COUNTERS = "campaign"  # campaigns' KPI counters are the step counters of this "sequence"


def stats_pk(sequence: str, step: str) -> str:
    return f"STATS#{sequence}#{step}"


def stats_sk(lead_id: str) -> str:
    return f"SHARD#{bucket(lead_id, STATS_SHARDS)}"


def stats_shards() -> list[str]:
    """The sort keys of every shard of a step's counters, to read them all in one BatchGetItem."""
    return [f"SHARD#{shard}" for shard in range(STATS_SHARDS)]


def ses_event_pk(event_key: str) -> str:
    """An SES event about an address with no lead: the marker that lets it count once."""
    return f"SESEVENT#{event_key}"


SES_EVENT_SK = "SESEVENT"

KPI_PK = "KPIS"  # the console home's daily KPIs (nurture.domain.kpis), one item per day


def kpi_day_sk(day: str) -> str:
    return f"DAY#{day}"


def audit_pk(month: str) -> str:
    """The console's record of changes made in a month (YYYY-MM, UTC), newest last."""
    return f"AUDIT#{month}"


GUARD_PK = "DELIVERABILITY"  # the account's sending record: daily counts and the pause flag
GUARD_PAUSE_SK = "PAUSE"


def guard_day_sk(day: str, spread: str) -> str:
    """Daily sends, bounces and complaints, spread over shards like the step counters."""
    return f"DAY#{day}#{bucket(spread, STATS_SHARDS)}"


def rank_pk(rank: str) -> str:
    return f"RANK#{rank}"


def rank_sk(total: float, lead_id: str) -> str:
    """Sorts by total score as a string: offset so negative totals sort below zero, fixed width."""
    return f"{total + 100000:015.4f}#{lead_id}"


def bucket(key: str, buckets: int) -> int:
    """A stable spread of keys (a lead id, mostly) over `buckets` (Python's own hash() changes per process)."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % buckets


def job_pk(job_id: str) -> str:
    """A segment scan's progress: the job, and one item per part."""
    return f"JOB#{job_id}"


JOB_SK = "JOB"


JOB_PART_PREFIX = "PART#"


def job_part_sk(part: int) -> str:
    return f"{JOB_PART_PREFIX}{part:04d}"


def campaign_pk(campaign_id: str) -> str:
    """A campaign's runtime state (the definition is config)."""
    return f"CAMPAIGN#{campaign_id}"


CAMPAIGN_SK = "STATE"
CAMPAIGNS_DUE = "DUE#CAMPAIGNS"  # the due index's partition of scheduled campaigns (leads use DUE#<shard>)
UNCONFIRMED_DUE = "DUE#UNCONFIRMED"  # the due index's partition of double opt-in leads, at their removal time
HELD_DUE = "DUE#HELD"  # the due index's partition of campaign emails held for a lead's own send window


EVENTS_DUE = "DUE#EVENTS"  # the due index's partition of seminar registrations, at their next reminder


def reminder_due_sk(at: str, event_id: str, lead_id: str, hours_before: int) -> str:
    """A registration's next reminder: when, and which (the index projects no more of the registration)."""
    return f"{at}#{event_id}#{lead_id}#{hours_before}"


def event_pk(event_id: str) -> str:
    """A seminar's registrations (the definition is config)."""
    return f"EVENT#{event_id}"


def session_sk(session_id: str) -> str:
    """A session's counters: registered, waitlisted."""
    return f"SESSION#{session_id}"


def registration_sk(lead_id: str) -> str:
    """A lead's one registration for the event: its session and status."""
    return f"REG#{lead_id}"


EVENT_PLACE_PREFIX = "EVENTREG#"


def event_place_sk(event_id: str) -> str:
    """Under the lead: its registration for the event, so an erasure finds it and gives the seat back."""
    return f"{EVENT_PLACE_PREFIX}{event_id}"


def offer_sk(offer_id: str) -> str:
    """Under an event: a freed seat's offer was taken, and by whom (a redelivered promotion promotes no more)."""
    return f"OFFER#{offer_id}"


def waitlist_prefix(session_id: str) -> str:
    return f"WAIT#{session_id}#"


def waitlist_sk(session_id: str, at: str, lead_id: str) -> str:
    """A session's waitlist, first come first."""
    return f"{waitlist_prefix(session_id)}{at}#{lead_id}"


def attendance_sk(event_id: str, session_id: str) -> str:
    """Under the lead: that a session's attendance import marked it (attended or no-show), once."""
    return f"ATTENDANCE#{event_id}#{session_id}"


def campaign_hold_sk(lead_id: str) -> str:
    """A campaign email held until the lead's own send window opens."""
    return f"HOLD#{lead_id}"
