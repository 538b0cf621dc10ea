"""The base of the send queue's messages about one lead: what the scorer's stream and the dispatcher hand the sender."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LeadMessage(BaseModel):
    """Unknown keys are ignored, so a message queued by the release before is still read."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    lead_id: str = Field(min_length=1, max_length=64)
