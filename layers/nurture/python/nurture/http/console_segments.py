"""/v1/console/segments: the active config's segments, and counting one over every lead with a preview of its
members: a fan-out job the audience workers run (as `nurture segment count`), whose progress the page polls."""

from __future__ import annotations

from typing import Annotated

import msgspec

from nurture.domain.audiences.scan import ScanTask, new_job_id, start_scan
from nurture.domain.clock import utc_now
from nurture.domain.console.access import require
from nurture.domain.errors import JobNotFound, SegmentNotFound
from nurture.http.console_routes import CONSOLE, SIGNED_IN, answer, signed_in
from nurture.http.paging import LISTED
from nurture.http.problems import documented, problem_doc
from nurture.http.router import Parameters, Response, Router
from nurture.http.services import audience_queue, audience_store, lead_store
from nurture.settings import active_config, marketer_config

PREVIEWED = 20  # members kept for the preview


class SegmentRef(Parameters):
    name: Annotated[str, msgspec.Meta(max_length=64, description="The segment's name in segments.yaml")]


class JobRef(Parameters):
    job_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}$", description="A count's job id")]


def register_segment_routes(app: Router) -> None:
    @app.get("/v1/console/segments", summary="The segments of the active config", **CONSOLE,
             responses={200: documented("The segments", "application/json"), **SIGNED_IN})
    def segments() -> Response:
        require(signed_in(app.current_event), "segments:read")
        return answer(200, {"segments": [{"name": name, "description": segment.description}
                                         for name, segment in sorted(marketer_config().segments.segments.items())]})

    @app.post("/v1/console/segments/<name>/count", summary="Count a segment over every lead, keeping a preview of "
              "its members: a job the audience workers run in parallel parts", parameters=SegmentRef, **CONSOLE,
              responses={202: documented("The job started", "application/json"),
                         404: problem_doc("No such segment in the active config"), **SIGNED_IN})
    def count(name: str) -> Response:
        user = signed_in(app.current_event)
        require(user, "segments:read")
        active = active_config()
        if name not in active.config.segments.segments:
            raise SegmentNotFound(f"There is no segment '{name}' in the active config.")
        job_id = start_scan(audience_store(), audience_queue(), ScanTask.of(
            job_id=new_job_id(), segment=name, part=0, parts=1, config_version=active.version, sample=PREVIEWED),
            "count", user.recorded_as, utc_now())
        return answer(202, {"job_id": job_id, "segment": name, "config_version": active.version})

    @app.get("/v1/console/segments/jobs/<job_id>", summary="A count's progress; once done, its members' preview",
             parameters=JobRef, **CONSOLE,
             responses={200: documented("The progress", "application/json"), 404: problem_doc("No such job"),
                        **SIGNED_IN})
    def job(job_id: str) -> Response:
        require(signed_in(app.current_event), "segments:read")
        progress = audience_store().progress(job_id)
        if progress is None or progress.campaign:  # a campaign's audience is the campaign's page's
            raise JobNotFound(f"There is no count '{job_id}'.")
        members = lead_store().profiles_of(progress.sample(PREVIEWED), consistent=False, projection=LISTED) \
            if progress.done else {}
        return answer(200, {"job_id": job_id, "segment": progress.segment, "done": progress.done,
                            "leads": progress.matched, "profiles_scanned": progress.scanned,
                            "parts": len(progress.parts), "parts_done": sum(part.done for part in progress.parts),
                            "preview": [{name: member.get(name) for name in LISTED}
                                        for member in members.values()]})
