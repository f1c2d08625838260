"""Program reports for a terminal or a file: a table, CSV, JSON, and a PNG chart.

Everything here formats a ``ProgramReport`` (``bot.services.insights``), which holds
counts and suppressed aggregates only; no one's words can reach these outputs.
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

from bot.services.insights import TREND_METRICS, ProgramReport

FORMATS = ("table", "csv", "json")


def report_dict(report: ProgramReport) -> dict[str, Any]:
    """The report as plain JSON-ready data: ISO dates, lists, ``None`` where suppressed."""
    data = _plain(asdict(report))
    distribution = report.usefulness.distribution
    data["usefulness"]["distribution"] = (
        None if distribution is None else {str(score): n for score, n in distribution}
    )
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
        ("meetings_scheduled", report.meetings.scheduled),
        ("meetings_held", report.meetings.held),
        ("meetings_missed", report.meetings.missed),
        ("meetings_unknown", report.meetings.unknown),
        ("prep_prompted", report.prep.prompted),
        ("prep_answered", report.prep.answered),
        ("prep_completion", _round(report.prep.rate)),
        ("usefulness_answers", report.usefulness.answers),
        ("usefulness_average", report.usefulness.average),
    ]
    for score in range(1, 6):
        rows.append((f"usefulness_{score}", report.usefulness.count(score)))
    rows += [
        ("tip_votes", report.tips.votes),
        ("tip_thumbs_up_rate", _round(report.tips.thumbs_up_rate)),
        ("pairs_at_risk", len(report.at_risk)),
    ]
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _table(report: ProgramReport) -> str:
    lines = [
        f"Program report for {report.team_id} as of {report.generated_at.isoformat()}",
        "",
    ]
    rows = [
        (name, "hidden (<3)" if value is None else str(value)) for name, value in _scalars(report)
    ]
    width = max(len(name) for name, _ in rows)
    value_width = max(len(value) for _, value in rows)
    lines += [f"{name.ljust(width)}  {value.rjust(value_width)}" for name, value in rows]

    lines += ["", "Pairs at risk"]
    if not report.at_risk:
        lines.append("  none")
    for item in report.at_risk:
        lines.append(
            f"  #{item.pair_id:<5} {item.mentor_id} & {item.mentee_id}: {'; '.join(item.reasons)}"
        )

    lines += ["", "Weekly trend (weeks start Monday, UTC)"]
    header = ["week", *TREND_METRICS]
    body = [
        [week.week_start.isoformat(), *(str(getattr(week, m)) for m in TREND_METRICS)]
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
    for metric in TREND_METRICS:
        for week in report.weeks:
            writer.writerow([metric, week.week_start.isoformat(), getattr(week, metric)])
    return out.getvalue()


def format_report(report: ProgramReport, fmt: str) -> str:
    """``table`` for a terminal, ``csv`` (metric,value; trends metric,week,value), ``json``."""
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
    """A 600×240 PNG bar chart of meetings held per week, oldest week on the left."""
    canvas = _Canvas(WIDTH, HEIGHT, _BACKGROUND)
    values = report.series("meetings_held")
    plot_x0, plot_x1 = _LEFT, WIDTH - _RIGHT
    plot_y0, plot_y1 = _TOP, HEIGHT - _BOTTOM  # y grows downwards; plot_y1 is the x axis
    top = max(values, default=0)
    for quarter in range(1, 5):  # light grid lines at 25/50/75/100 % of the tallest bar
        y = plot_y1 - (plot_y1 - plot_y0) * quarter // 4
        canvas.rect(plot_x0, y, plot_x1, y + 1, _GRID)
    if values:
        slot = (plot_x1 - plot_x0) / len(values)
        bar_width = max(1, int(slot * 0.6))
        for i, value in enumerate(values):
            centre = int(plot_x0 + slot * (i + 0.5))
            height = round(value / top * (plot_y1 - plot_y0)) if top else 0
            canvas.rect(
                centre - bar_width // 2,
                plot_y1 - height,
                centre + (bar_width + 1) // 2,
                plot_y1,
                _BAR,
            )
            canvas.rect(centre, plot_y1, centre + 1, plot_y1 + 4, _AXIS)  # tick under each week
            canvas.number(value, centre, plot_y1 - height - 3)
    canvas.rect(plot_x0 - 1, plot_y0 - 4, plot_x0 + 1, plot_y1 + 1, _AXIS)  # y axis
    canvas.rect(plot_x0 - 1, plot_y1, plot_x1, plot_y1 + 2, _AXIS)  # x axis
    if top:
        canvas.number(top, plot_x0 // 2, plot_y0 + 5)
    canvas.number(0, plot_x0 // 2, plot_y1 + 1)
    return canvas.png()
