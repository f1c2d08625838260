"""What a person may answer, and how much they may type.

Checked on the server whatever the modal allowed: a modal's ``max_length`` is
advice to Slack's client, and a forged submission skips it.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import Conflict, UserError

FOCUS_MAX = 500  # prep: "area of focus", one line
NOTE_MAX = 2000  # prep questions, what helped, what to change

ANSWERING_STATUSES = ("active", "ended")


def check_text(text: str | None, *, limit: int, what: str) -> str:
    """``text`` stripped, or a refusal that says how long it may be."""
    value = (text or "").strip()
    if len(value) > limit:
        raise UserError(
            f"{what} is {len(value):,} characters long. Keep it under {limit:,} characters "
            "and send it again; nothing was saved."
        )
    return value


def check_feedback_allowed(
    *,
    pair_status: str,
    meeting_starts_at: datetime | None,
    now: datetime,
    asked: bool = False,
) -> None:
    """A rating is for a meeting that has started, by a member of a pair that is
    active or ended; the closing poll (no meeting) only once the pair has ended.
    ``asked``: the person's poll for the meeting went out (it had started then), so
    their answer counts even if the meeting has been moved ahead since."""
    if pair_status not in ANSWERING_STATUSES:
        raise Conflict("This pairing never started, so there is nothing to give feedback on.")
    if meeting_starts_at is None:
        if pair_status != "ended":
            raise Conflict("The closing poll opens once the pairing has ended.")
    elif meeting_starts_at > now and not asked:
        raise Conflict(
            "That meeting hasn't started yet. I'll ask how it went once it's over."
        )
