"""/v1/console/segments: the active config's segments, and counting one over every lead with a preview of its
members; /v1/console/leads/search: finding leads by part of a name, company or address and filters. Both are a
fan-out job the audience workers run (as `nurture segment count`), whose progress the page polls."""

from __future__ import annotations

from typing import Annotated

import msgspec

from nurture.domain.audiences.scan import PREVIEW_MAX, JobProgress, ScanTask, new_job_id, start_scan
from nurture.domain.audiences.search import LeadSearch
from nurture.domain.clock import utc_now
from nurture.domain.console.access import require
from nurture.domain.errors import FieldProblem, JobNotFound, SegmentNotFound, ValidationFailed
from nurture.http.console_routes import CONSOLE, SIGNED_IN, answer, signed_in
from nurture.http.paging import LISTED
from nurture.http.problems import documented, problem_doc
from nurture.http.router import Parameters, Response, Router
from nurture.http.services import audience_queue, audience_store, lead_store
from nurture.settings import active_config, marketer_config

PREVIEWED = 20  # members kept for the preview
FOUND_SHOWN = PREVIEW_MAX  # leads a search shows: a narrower search finds the rest
SHOWN = (*LISTED, "last_activity_at")


class SegmentRef(Parameters):
    name: Annotated[str, msgspec.Meta(max_length=64, description="The segment's name in segments.yaml")]


class JobRef(Parameters):
    job_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}$", description="A count's job id")]


def register_segment_routes(app: Router) -> None:
    @app.get("/v1/console/segments", summary="The segments of the active config", **CONSOLE,
             responses={200: documented("The segments", "application/json"), **SIGNED_IN})
    def segments() -> Response:
        require(signed_in(app.current_request), "segments:read")
        return answer(200, {"segments": [{"name": name, "description": segment.description}
                                         for name, segment in sorted(marketer_config().segments.segments.items())]})

    @app.post("/v1/console/segments/<name>/count", summary="Count a segment over every lead, keeping a preview of "
              "its members: a job the audience workers run in parallel parts", parameters=SegmentRef, **CONSOLE,
              responses={202: documented("The job started", "application/json"),
                         404: problem_doc("No such segment in the active config"), **SIGNED_IN})
    def count(name: str) -> Response:
        user = signed_in(app.current_request)
        require(user, "segments:read")
        active = active_config()
        if name not in active.config.segments.segments:
            raise SegmentNotFound(f"There is no segment '{name}' in the active config.")
        job_id = start_scan(audience_store(), audience_queue(), ScanTask.of(
            job_id=new_job_id(), segment=name, part=0, parts=1, config_version=active.version, sample=PREVIEWED),
            "count", user.recorded_as, utc_now())
        return answer(202, {"job_id": job_id, "segment": name, "config_version": active.version})

    @app.post("/v1/console/leads/search", summary="Find leads by part of a name, company or address (any case, "
              "full- or half-width) and filters, over every lead: a job the audience workers run in parallel parts",
              body=LeadSearch, **CONSOLE,
              responses={202: documented("The job started", "application/json"),
                         404: problem_doc("No such segment in the active config"),
                         422: problem_doc("No text and no filter"), **SIGNED_IN})
    def search(body: LeadSearch) -> Response:
        user = signed_in(app.current_request)
        require(user, "leads:read_all")
        if body.empty:
            raise ValidationFailed("Give a text or a filter.",
                                   [FieldProblem("text", "missing", "give a text or a filter")])
        active = active_config()
        if body.segment and body.segment not in active.config.segments.segments:
            raise SegmentNotFound(f"There is no segment '{body.segment}' in the active config.")
        job_id = start_scan(audience_store(), audience_queue(), ScanTask.of(
            job_id=new_job_id(), segment="", part=0, parts=1, config_version=active.version, sample=FOUND_SHOWN,
            search=body), "search", user.recorded_as, utc_now())
        return answer(202, {"job_id": job_id, "config_version": active.version})

    @app.get("/v1/console/leads/search/<job_id>", summary="A search's progress; once done, the leads it found (the "
             "first 100)", parameters=JobRef, **CONSOLE,
             responses={200: documented("The progress and the leads found", "application/json"),
                        404: problem_doc("No such search"), **SIGNED_IN})
    def found(job_id: str) -> Response:
        require(signed_in(app.current_request), "leads:read_all")
        progress = audience_store().progress(job_id)
        if progress is None or progress.purpose != "search":
            raise JobNotFound(f"There is no search '{job_id}'.")
        return answer(200, _progress(progress, FOUND_SHOWN, SHOWN))

    @app.get("/v1/console/segments/jobs/<job_id>", summary="A count's progress; once done, its members' preview",
             parameters=JobRef, **CONSOLE,
             responses={200: documented("The progress", "application/json"), 404: problem_doc("No such job"),
                        **SIGNED_IN})
    def job(job_id: str) -> Response:
        require(signed_in(app.current_request), "segments:read")
        progress = audience_store().progress(job_id)
        # A campaign's audience is the campaign's page's; a search, the Leads page's.
        if progress is None or progress.campaign or progress.purpose == "search":
            raise JobNotFound(f"There is no count '{job_id}'.")
        return answer(200, {**_progress(progress, PREVIEWED, LISTED), "segment": progress.segment})


def _progress(progress: JobProgress, shown: int, fields: tuple[str, ...]) -> dict[str, object]:
    """How far a job is; once done, the first `shown` leads it found (`fields` of each)."""
    members = lead_store().profiles_of(progress.sample(shown), consistent=False, projection=fields) \
        if progress.done else {}
    return {"job_id": progress.job_id, "done": progress.done, "leads": progress.matched,
            "profiles_scanned": progress.scanned, "parts": len(progress.parts),
            "parts_done": sum(part.done for part in progress.parts),
            "preview": [{name: member.get(name) for name in fields} for member in members.values()]}
