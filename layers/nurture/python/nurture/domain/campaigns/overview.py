"""Campaigns as a marketer lists them (the CLI's `campaign list`, the console's Emails page): each definition with
when it goes out and its state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nurture.config import NurtureConfig
from nurture.domain.campaigns.lifecycle import CampaignState, seen_status


def campaign_rows(config: NurtureConfig, state_of: Callable[[str], CampaignState | None],
                  scan_done: Callable[[str], bool]) -> list[dict[str, Any]]:
    """Every campaign of the config, the earliest first. `state_of`: its runtime state (None: a draft);
    `scan_done`: whether an audience scan has handed every member it found to the sender."""
    window = config.sequences.send_window
    rows = []
    for campaign_id, campaign in sorted(config.campaigns.campaigns.items(), key=lambda c: c[1].starts(window)):
        state = state_of(campaign_id)
        rows.append({"id": campaign_id, "name": campaign.name, "type": campaign.type, "segment": campaign.segment,
                     "sends": campaign.send_at.isoformat() if campaign.send_at else f"{campaign.send_on} (each "
                     "lead's send window)", "status": seen_status(state, scan_done),
                     "scheduled_by": state.scheduled_by if state else "", "ab_test": campaign.ab_test is not None})
    return rows
