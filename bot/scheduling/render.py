"""What each kind of scheduled message looks like, built at send time from its payload."""

from __future__ import annotations

from datetime import datetime

from bot.content import Content
from bot.store.outbox import ClaimedMessage
from bot.views import coaching
from bot.views.coaching import Outgoing
from bot.views.pairing import invitation_blocks

# Mentor practices that suit a meeting's preparation, when content marks none.
PREP_PRACTICES_FALLBACK = 3


def render(content: Content, message: ClaimedMessage) -> Outgoing:
    payload = message.payload
    kind = message.kind
    if kind == "tip":
        practice = content.practice(payload["tip_id"])
        return coaching.tip_message(
            content, message_id=message.id, practice=practice, role=payload["role"]
        )
    if kind == "prep_mentee":
        return coaching.prep_for_mentee(content, payload)
    if kind == "prep_mentor":
        fitting = [p for p in content.mentor_practices if p.prep] or list(
            content.mentor_practices[:PREP_PRACTICES_FALLBACK]
        )
        return coaching.prep_for_mentor(content, payload, fitting)
    if kind == "feedback":
        return coaching.feedback_poll(
            content,
            pair_id=payload["pair_id"],
            meeting_id=payload["meeting_id"],
            partner_id=payload["partner_id"],
            starts_at=datetime.fromisoformat(payload["starts_at"]),
        )
    if kind == "closing_poll":
        return coaching.feedback_poll(
            content,
            pair_id=payload["pair_id"],
            meeting_id=None,
            partner_id=payload["partner_id"],
            starts_at=None,
            closing=True,
        )
    if kind == "schedule_ask":
        return coaching.schedule_ask(content, pair_id=payload["pair_id"])
    if kind == "match_invite":
        blocks = invitation_blocks(
            content,
            pair_id=payload["pair_id"],
            inviter_id=payload["mentor_id"],
            invitee_id=payload["mentee_id"],
            inviter_role="mentor",
        )
        return Outgoing(
            text=f"<@{payload['mentor_id']}> invited you to a mentoring pair", blocks=blocks
        )
    if kind == "match_notice":
        return coaching.plain(
            content.message("match_notice_mentor", mentee=f"<@{payload['mentee_id']}>")
        )
    if kind == "match_unmatched":
        return coaching.plain(content.message("match_unmatched"))
    raise ValueError(f"unknown scheduled message kind {kind!r}")
