"""/v1/console/home and the changes made from it: sending's state this week, the guard, and resuming sending."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from nurture.domain.clock import utc_now
from nurture.domain.console.access import require
from nurture.domain.console.audit import Change
from nurture.domain.console.home import deliverability_panel, sending_weeks
from nurture.domain.deliverability import judge
from nurture.domain.kpis import funnel, period_totals, weekly_trend
from nurture.http.console_routes import CONSOLE, SIGNED_IN, answer, signed_in
from nurture.http.problems import documented
from nurture.http.router import Response, Router
from nurture.http.services import audit_log, deliverability_store, kpi_store
from nurture.settings import marketer_config

CHANGES_SHOWN = 10
TREND_WEEKS = 8  # also the two 28-day months the KPIs compare: one Query of 56 days


def register_home_routes(app: Router) -> None:
    @app.get("/v1/console/home", summary="This week's and this month's KPIs beside the period before, weekly trends, "
             "sending and the deliverability guard, and the latest changes made in the console", **CONSOLE,
             responses={200: documented("The home page's figures", "application/json"), **SIGNED_IN})
    def home() -> Response:
        require(signed_in(app.current_request), "home:read")
        now, guard = utc_now(), deliverability_store()
        settings = marketer_config().sequences.deliverability
        days = guard.recent_days()
        today = now.astimezone(ZoneInfo(marketer_config().scoring.timezone)).date()
        counted = kpi_store().days((today - timedelta(days=7 * TREND_WEEKS - 1)).isoformat(), today.isoformat())
        totals = period_totals(counted, today)
        return answer(200, {"kpis": totals, "funnel": funnel(totals["this_month"]),
                            "trend": weekly_trend(counted, today, TREND_WEEKS),
                            "deliverability": deliverability_panel(judge(days, settings), guard.paused(), settings),
                            "sending": sending_weeks(days, now.date()),
                            "changes": audit_log().recent(now, CHANGES_SHOWN)})

    @app.post("/v1/console/sending/resume", summary="Lift the deliverability guard's pause (admins)", **CONSOLE,
              responses={200: documented("Whether there was a pause to lift", "application/json"), **SIGNED_IN})
    def resume() -> Response:
        user = signed_in(app.current_request)
        require(user, "sending:resume")
        resumed = deliverability_store().resume(Change(user.recorded_as, "sending.resume", "", utc_now()))
        return answer(200, {"resumed": resumed})
