"""Program reports for a terminal or a file: a table, CSV, JSON, and a PNG chart.

Everything here formats a ``ProgramReport`` (``bot.services.insights``): counts of
people per closed week, already hidden (``None``) where too few people stand behind
them, and program state. No one's words or ratings can reach these outputs. The CLI
has no viewer; the rest of the rule (closed and frozen weeks, people not answers, the
coordinators' answers left out) is App Home's.
"""

from __future__ import annotations

import csv
import io
import json
import struct
import zlib
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from bot.content import Content
from bot.services.insights import COUNT_METRICS, SPLIT_METRICS, ProgramReport, Split
from bot.services.outcomes import OutcomeReport
from bot.views.insights import outcome_lines

FORMATS = ("table", "csv", "json")
CHART_METRIC = "feedback_people"


def chart_comment(report: ProgramReport) -> str:
    return (
        f"People who gave feedback in each of the last {len(report.weeks)} closed weeks "
        f"(Monday to Sunday, UTC). A week with fewer than {report.minimum_people} people "
        "is left empty"
        + (", and so is one that would count your own answers." if report.viewer else ".")
    )


def _privacy(report: ProgramReport) -> str:
    who = (
        "no viewer"
        if report.viewer is None
        else f"shown to {report.viewer}: a figure that counts their own answers is hidden"
    )
    return (
        f"people, not answers; at least {report.minimum_people} per figure and per side "
        f"of a split; closed weeks only, frozen once shown, without the answers of the "
        f"coordinators listed in MENTOR_ADMINS when they froze; {who}"
    )


def report_dict(report: ProgramReport) -> dict[str, Any]:
    """The report as plain JSON-ready data: ISO dates, lists, ``None`` where hidden."""
    data = _plain(asdict(report))
    for week in data["weeks"]:
        # What the viewer is not shown of their own: the CLI has no viewer.
        week.pop("yours")
        for metric in SPLIT_METRICS:  # as ``_people_shown``: no count beside a hidden side
            if week[metric]["yes"] is None:
                week[metric]["people"] = None
    data["privacy"] = _privacy(report)
    data["totals"] = {metric: report.total(metric) for metric in COUNT_METRICS}
    data["pooled"] = {
        metric: {"people": _people_shown(pooled), "yes": pooled.yes}
        for metric in SPLIT_METRICS
        for pooled in [report.pooled(metric)]
    }
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _scalars(report: ProgramReport) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("active_pairs", report.active_pairs),
        ("ended_pairs", report.ended_pairs),
        ("open_invitations", report.open_invitations),
        ("meetings_ahead", report.meetings_ahead),
        ("pairs_at_risk", len(report.at_risk)),
        ("minimum_people", report.minimum_people),
        ("weeks_shown", len(report.weeks)),
    ]
    for metric in COUNT_METRICS:
        rows.append((f"{metric}_total", report.total(metric)))
    for metric in SPLIT_METRICS:
        pooled = report.pooled(metric)
        rows += [
            (f"{metric}_people_total", _people_shown(pooled)),
            (f"{metric}_yes_total", pooled.yes),
        ]
    return rows


def _week_cells(report: ProgramReport) -> list[tuple[str, date, int | None]]:
    """(metric, week, value) for every weekly figure; splits as ``_people``/``_yes``."""
    cells: list[tuple[str, date, int | None]] = []
    for metric in COUNT_METRICS:
        for week, value in zip(report.weeks, report.series(metric), strict=True):
            cells.append((metric, week.week_start, value))
    for metric in SPLIT_METRICS:
        for week, figure in zip(report.weeks, report.splits(metric), strict=True):
            cells.append((f"{metric}_people", week.week_start, _people_shown(figure)))
            cells.append((f"{metric}_yes", week.week_start, figure.yes))
    return cells


def _people_shown(figure: Split) -> int | None:
    """How many people a split rests on, only when the split itself is shown: beside a
    side too small to show, the count says how lopsided the group was."""
    return figure.people if figure.yes is not None else None


def _split_cell(figure: Split) -> str:
    if figure.people is None or figure.yes is None:
        return "-"
    return f"{figure.yes}/{figure.people}"


def _table(report: ProgramReport) -> str:
    hidden = f"hidden (<{report.minimum_people})"
    lines = [
        f"Program report for {report.team_id} as of {report.generated_at.isoformat()}",
        f"Privacy: {_privacy(report)}",
        "",
    ]
    rows = [(name, hidden if value is None else str(value)) for name, value in _scalars(report)]
    width = max(len(name) for name, _ in rows)
    value_width = max(len(value) for _, value in rows)
    lines += [f"{name.ljust(width)}  {value.rjust(value_width)}" for name, value in rows]

    lines += ["", "Pairs at risk (meetings not happening; never a rating)"]
    if not report.at_risk:
        lines.append("  none")
    for item in report.at_risk:
        lines.append(
            f"  #{item.pair_id:<5} {item.mentor_id} & {item.mentee_id}: {'; '.join(item.reasons)}"
        )

    lines += [
        "",
        "Closed weeks (Monday to Sunday, UTC); splits as yes/people, '-' where hidden",
    ]
    header = ["week", *COUNT_METRICS, *SPLIT_METRICS]
    body = [
        [
            week.week_start.isoformat(),
            *("-" if getattr(week, m) is None else str(getattr(week, m)) for m in COUNT_METRICS),
            *(_split_cell(getattr(week, m)) for m in SPLIT_METRICS),
        ]
        for week in report.weeks
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _csv(report: ProgramReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "value"])
    for name, value in _scalars(report):
        writer.writerow([name, "" if value is None else value])
    for item in report.at_risk:
        writer.writerow(
            [
                f"at_risk.{item.pair_id}",
                f"{item.mentor_id} {item.mentee_id}: {'; '.join(item.reasons)}",
            ]
        )
    for metric, week, value in _week_cells(report):
        writer.writerow([metric, week.isoformat(), "" if value is None else value])
    return out.getvalue()


def format_report(report: ProgramReport, fmt: str) -> str:
    """``table`` for a terminal, ``csv`` (metric,value; weekly metric,week,value), ``json``."""
    if fmt == "table":
        return _table(report)
    if fmt == "csv":
        return _csv(report)
    if fmt == "json":
        return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


# --- PNG chart --------------------------------------------------------------------------

WIDTH, HEIGHT = 600, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 16, 24, 28
_BACKGROUND = (255, 255, 255)
_AXIS = (60, 60, 60)
_GRID = (225, 225, 225)
_BAR = (54, 116, 196)

# A 3×5 digit font, drawn at twice the size: enough to label each bar with its count.
_DIGITS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
}
_SCALE = 2


class _Canvas:
    def __init__(self, width: int, height: int, colour: tuple[int, int, int]) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(colour) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        """Fill [x0, x1) × [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1:
            return
        row = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def number(self, value: int, centre_x: int, bottom_y: int) -> None:
        text = str(value)
        glyph_w, gap = 3 * _SCALE, _SCALE
        total = len(text) * glyph_w + (len(text) - 1) * gap
        x = centre_x - total // 2
        y = bottom_y - 5 * _SCALE
        for char in text:
            for row, bits in enumerate(_DIGITS[char]):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        px, py = x + col * _SCALE, y + row * _SCALE
                        self.rect(px, py, px + _SCALE, py + _SCALE, _AXIS)
            x += glyph_w + gap

    def png(self) -> bytes:
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def weekly_chart_png(report: ProgramReport) -> bytes:
    """A 600×240 PNG bar chart of the people who gave feedback in each closed week,
    oldest on the left; a hidden week (fewer than K people, or, for a coordinator's
    chart, counting their own answers) has no bar and no number."""
    canvas = _Canvas(WIDTH, HEIGHT, _BACKGROUND)
    values = report.series(CHART_METRIC)
    plot_x0, plot_x1 = _LEFT, WIDTH - _RIGHT
    plot_y0, plot_y1 = _TOP, HEIGHT - _BOTTOM  # y grows downwards; plot_y1 is the x axis
    top = max((v for v in values if v is not None), default=0)
    for quarter in range(1, 5):  # light grid lines at 25/50/75/100 % of the tallest bar
        y = plot_y1 - (plot_y1 - plot_y0) * quarter // 4
        canvas.rect(plot_x0, y, plot_x1, y + 1, _GRID)
    if values:
        slot = (plot_x1 - plot_x0) / len(values)
        bar_width = max(1, int(slot * 0.6))
        for i, value in enumerate(values):
            centre = int(plot_x0 + slot * (i + 0.5))
            canvas.rect(centre, plot_y1, centre + 1, plot_y1 + 4, _AXIS)  # tick under each week
            if value is None:  # hidden: a short grey dash instead of a bar
                canvas.rect(
                    centre - bar_width // 4, plot_y1 - 2, centre + bar_width // 4, plot_y1, _GRID
                )
                continue
            height = round(value / top * (plot_y1 - plot_y0)) if top else 0
            canvas.rect(
                centre - bar_width // 2,
                plot_y1 - height,
                centre + (bar_width + 1) // 2,
                plot_y1,
                _BAR,
            )
            canvas.number(value, centre, plot_y1 - height - 3)
    canvas.rect(plot_x0 - 1, plot_y0 - 4, plot_x0 + 1, plot_y1 + 1, _AXIS)  # y axis
    canvas.rect(plot_x0 - 1, plot_y1, plot_x1, plot_y1 + 2, _AXIS)  # x axis
    if top:
        canvas.number(top, plot_x0 // 2, plot_y0 + 5)
    canvas.number(0, plot_x0 // 2, plot_y1 + 1)
    return canvas.png()


# --- Outcome figures --------------------------------------------------------------------


def outcomes_dict(report: OutcomeReport) -> dict[str, Any]:
    """The outcome figures as plain JSON-ready data; ``None`` where hidden, and
    ``"inf"`` for a median past its horizon (JSON has no infinity)."""

    def plain(value: Any) -> Any:
        if isinstance(value, float) and value == float("inf"):
            return "inf"
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value

    data = plain(asdict(report))
    data["privacy"] = (
        f"pairs, not answers; at least {report.minimum} pairs per median and per side of a "
        "share; kickoff months shown once complete; as of the start of the current week"
    )
    return data


def format_outcomes(content: Content, report: OutcomeReport, fmt: str) -> str:
    """``table`` (label and value per whole-program figure), ``csv`` or ``json``."""
    if fmt == "json":
        return json.dumps(outcomes_dict(report), indent=2, ensure_ascii=False) + "\n"
    lines = outcome_lines(content, report)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["figure", "value"])
        writer.writerows(lines)
        return out.getvalue()
    if fmt == "table":
        width = max(len(label) for label, _ in lines)
        head = f"Outcomes for {report.team_id} as of {report.as_of.isoformat()}"
        rows = [f"{label.ljust(width)}  {value}" for label, value in lines]
        return "\n".join([head, *rows]) + "\n"
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
