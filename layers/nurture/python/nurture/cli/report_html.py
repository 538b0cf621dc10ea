"""The KPI report as one HTML file that opens offline: inline CSS and SVG charts, no scripts, no fetches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader

from nurture.cli.report_words import JAPANESE

Language = Literal["ja", "en"]

FUNNEL = (("sent", "Sent"), ("delivered", "Delivered"), ("opened", "Opened (people)"), ("clicked", "Clicked"),
          ("converted", "Converted"))  # their labels: gettext keys, as every word of the template
TRENDS = (("sent", "#64748b"), ("opened", "#0ea5e9"), ("clicked", "#f59e0b"), ("forms", "#10b981"),
          ("handoffs", "#e11d48"))
RATES = ("open_rate", "click_rate", "conversion_rate", "unsubscribe_rate", "bounce_rate", "complaint_rate")


def funnel_bars(totals: dict[str, Any], words: Callable[[str], str] = str, width: int = 560,
                bar: int = 28) -> list[dict[str, Any]]:
    """Each funnel stage as a bar scaled to the emails sent, labelled in `words`."""
    top = max(int(totals.get("sent") or 0), 1)
    label_width = 190
    usable = width - label_width - 60
    return [{"label": words(label), "count": int(totals.get(name) or 0), "y": index * (bar + 8),
             "x": label_width, "width": max(2, round(usable * int(totals.get(name) or 0) / top)), "height": bar}
            for index, (name, label) in enumerate(FUNNEL)]


def trend_lines(weekly: list[dict[str, Any]], words: Callable[[str], str] = str, width: int = 640,
                height: int = 220) -> dict[str, Any]:
    """A polyline per weekly count, on a shared scale; a week is a point."""
    left, bottom, top_pad = 40, 30, 10
    plot_w, plot_h = width - left - 40, height - bottom - top_pad  # room for the last week's label
    peak = max([int(week[name]) for week in weekly for name, _ in TRENDS] + [1])
    step = plot_w / max(len(weekly) - 1, 1)

    def point(index: int, value: int) -> str:
        return f"{left + index * step:.1f},{top_pad + plot_h - plot_h * value / peak:.1f}"

    series = [{"name": name, "label": words(name), "colour": colour,
               "points": " ".join(point(i, int(week[name])) for i, week in enumerate(weekly))}
              for name, colour in TRENDS]
    ticks = [{"x": round(left + i * step, 1), "label": week["week"][5:]} for i, week in enumerate(weekly)]
    return {"series": series, "ticks": ticks, "peak": peak, "width": width, "height": height, "left": left,
            "base": top_pad + plot_h, "top": top_pad}


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"




def render_html(report: dict[str, Any], conversion_days: int, language: Language = "en") -> str:
    """The report in `language`: Jinja's i18n extension, with the Japanese words of `report_words` as its catalog
    (a word without one stays English). Only words written in the template go through gettext, whose answers are
    markup; labels from constants are translated here and escaped as any value."""
    catalog = JAPANESE if language == "ja" else {}

    def words(message: str) -> str:
        return catalog.get(message, message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return words(singular if n == 1 else plural)

    environment = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=True,
                              keep_trailing_newline=True, extensions=["jinja2.ext.i18n"])
    environment.install_gettext_callables(words, ngettext, newstyle=True)  # type: ignore[attr-defined]
    return environment.get_template("report.html.j2").render(
        r=report, pct=percent, funnel=funnel_bars(report["totals"], words),
        trend=trend_lines(report["weekly"], words), weekly_names=[name for name, _ in TRENDS],
        trend_names={name: words(name) for name, _ in TRENDS}, rates=RATES,
        rate_names={rate: words(rate.replace("_", " ")) for rate in RATES}, conversion_days=conversion_days,
        language=language)
