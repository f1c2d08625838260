"""Every kind of message a use case plans renders from its row's payload alone, within
Slack's limits: rendering is pure and happens at send time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot import outgoing
from bot.domain import care
from bot.scheduling.render import RENDERERS, render
from bot.store.outbox import ClaimedMessage, PlannedMessage
from slackemu import limits

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
TEAM, MENTOR, MENTEE = "T0001", "UALICE0001", "UBOBBY0002"


def claimed(planned: PlannedMessage, row_id: int = 1) -> ClaimedMessage:
    return ClaimedMessage(
        id=row_id,
        team_id=planned.team_id,
        key=planned.key,
        kind=planned.kind,
        recipient=planned.recipient,
        due_at=planned.due_at,
        pair_id=planned.pair_id,
        meeting_id=planned.meeting_id,
        payload=dict(planned.payload or {}),
        attempts=1,
    )


def planned_of_each_new_kind(content: Any) -> list[PlannedMessage]:
    start = (NOW + timedelta(days=2)).isoformat()
    common = {"team_id": TEAM, "now": NOW}
    return [
        outgoing.invitation(
            pair_id=1, inviter_id=MENTOR, invitee_id=MENTEE, inviter_role="mentor", **common
        ),
        outgoing.invitation_closed(
            pair_id=1, invitee_id=MENTEE, inviter_id=MENTOR, accepted=True, **common
        ),
        outgoing.invite_answered(
            pair_id=1, inviter_id=MENTOR, invitee_id=MENTEE, accepted=False, **common
        ),
        outgoing.kickoff(pair_id=1, mentor_id=MENTOR, mentee_id=MENTEE, **common),
        outgoing.to_group(
            outgoing.SCHEDULE_CONFIRMED,
            pair_id=1,
            payload={"meetings": [[5, 1, start, 45], [6, 2, start, 45]]},
            **common,
        ),
        outgoing.to_group(
            outgoing.MEETING_CHANGED,
            pair_id=1,
            payload={"starts_at": start, "cancelled": True, "by": MENTEE},
            **common,
        ),
        outgoing.to_person(
            outgoing.PREP_SHARED,
            user_id=MENTOR,
            payload={"mentee_id": MENTEE, "focus": "<!here>", "questions": "", "starts_at": start},
            **common,
        ),
        outgoing.to_person(
            outgoing.PARTNER_FEEDBACK, user_id=MENTOR, payload={"user_id": MENTEE}, **common
        ),
        outgoing.to_person(
            outgoing.RESCHEDULE_PROMPT, user_id=MENTEE, payload={"meeting_id": 5}, **common
        ),
        outgoing.to_person(
            outgoing.POLL_UPDATE,
            user_id=MENTEE,
            payload={
                "channel": "D1",
                "ts": "1.2",
                "pair_id": 1,
                "meeting_id": None,
                "partner_id": MENTOR,
                "starts_at": None,
                "happened": None,
                "usefulness": 4,
                "has_details": True,
            },
            **common,
        ),
        outgoing.to_person(
            outgoing.TIP_UPDATE,
            user_id=MENTEE,
            payload={
                "channel": "D1",
                "ts": "1.2",
                "message_id": 9,
                "tip_id": content.mentee_practices[0].id,
                "role": "mentee",
                "vote": -1,
            },
            **common,
        ),
        outgoing.to_group(
            outgoing.PAIR_ENDED,
            pair_id=1,
            payload={"mentor_id": MENTOR, "mentee_id": MENTEE},
            **common,
        ),
        outgoing.to_group(
            outgoing.NUDGE, pair_id=1, payload={"mentor_id": MENTOR, "mentee_id": MENTEE}, **common
        ),
        outgoing.to_person(
            outgoing.JOIN_CONFIRMED, user_id=MENTEE, payload={"role": "a mentee"}, **common
        ),
        outgoing.to_person(
            outgoing.MY_DATA, user_id=MENTEE, payload={"data": {"user_id": MENTEE}}, **common
        ),
        outgoing.notice(user_id=MENTOR, text="Approved: 1 invitation is on its way.", **common),
        # The goal card's payload as delivery completes it (the row itself carries no words):
        # three goals and an agreement at their longest, every character one to escape.
        outgoing.to_group(
            outgoing.GOAL_CARD,
            pair_id=1,
            payload={
                "mentor_id": MENTOR,
                "mentee_id": MENTEE,
                "goals": [
                    {
                        "id": n,
                        "position": n,
                        "what": "<" * 150,
                        "why": "&" * 500,
                        "by_when": "2026-06-01",
                        "status": "open",
                        "progress": None,
                    }
                    for n in (1, 2, 3)
                ],
                "agreement": {"cadence": "weekly", "contact": ">" * 500, "confidential": "<" * 500},
            },
            **common,
        ),
        # Care before a pair fails (bot.services.care).
        *(
            outgoing.care_nudge(
                pair_id=1,
                reason=reason,
                since=NOW,
                mentor_id=MENTOR,
                mentee_id=MENTEE,
                **common,
            )
            for reason in care.REASONS
        ),
        outgoing.checkin(pair_id=1, user_id=MENTEE, partner_id=MENTOR, **common),
        outgoing.to_person(
            outgoing.CHECKIN_UPDATE,
            user_id=MENTEE,
            pair_id=1,
            payload={
                "channel": "D1",
                "ts": "1.0",
                "pair_id": 1,
                "partner_id": MENTOR,
                "score": 5,
                "not_working": True,
            },
            **common,
        ),
        outgoing.exit_offer(pair_id=1, user_id=MENTEE, partner_id=MENTOR, **common),
        *(
            outgoing.to_person(
                outgoing.EXIT_ANSWERED,
                user_id=MENTEE,
                pair_id=1,
                payload={"pair_id": 1, "partner_id": MENTOR, "choice": choice},
                **common,
            )
            for choice in care.EXIT_CHOICES
        ),
        outgoing.to_person(
            outgoing.EXIT_PARTNER,
            user_id=MENTOR,
            pair_id=1,
            payload={"pair_id": 1, "ended_by": MENTEE},
            **common,
        ),
        outgoing.to_person(
            outgoing.EXIT_COORDINATOR,
            user_id="UCOORD",
            pair_id=1,
            payload={
                "mentor_id": MENTOR,
                "mentee_id": MENTEE,
                "ended_by": MENTEE,
                "rematch": True,
            },
            **common,
        ),
    ]


def test_each_new_kind_renders_from_its_payload_within_slacks_limits(content: Any) -> None:
    rendered = set()
    for planned in planned_of_each_new_kind(content):
        message = render(content, claimed(planned))
        blocks = [b.to_dict() for b in message.blocks]
        assert message.text and blocks, planned.kind
        assert not limits.validate_message_blocks(blocks), planned.kind
        assert not limits.validate_message_text(message.text), planned.kind
        rendered.add(planned.kind)
    # Every kind with a renderer was tried, except the ones the scheduler plans ahead.
    ahead = {"tip", "prep_mentee", "prep_mentor", "feedback", "closing_poll", "schedule_ask"}
    assert set(RENDERERS) - ahead - {"match_notice", "match_unmatched"} == rendered


def test_group_dm_rows_name_the_pair_not_a_person() -> None:
    kickoff = outgoing.kickoff(
        team_id=TEAM, pair_id=12, mentor_id=MENTOR, mentee_id=MENTEE, now=NOW
    )
    assert kickoff.recipient == "pair:12" and outgoing.group_pair_id(kickoff.recipient) == 12
    assert outgoing.group_pair_id(MENTOR) is None
    # Messages asked for each time they happen name no one in their key.
    notice = outgoing.notice(team_id=TEAM, user_id=MENTOR, text="hi", now=NOW)
    assert MENTOR not in notice.key


def test_a_response_url_answer_keeps_its_url_only_until_it_is_sent() -> None:
    row = outgoing.respond(
        team_id=TEAM, user_id=MENTOR, response_url="https://hooks/x", text="hi", now=NOW
    )
    assert row.payload == {
        "url": "https://hooks/x",
        "body": {"response_type": "ephemeral", "replace_original": False, "text": "hi"},
        "dm_fallback": True,
    }
    gone = outgoing.respond(
        team_id=TEAM, user_id=MENTOR, response_url="https://hooks/x", delete_original=True, now=NOW
    )
    assert gone.payload["body"] == {"delete_original": True} and not gone.payload["dm_fallback"]


def test_prep_prompts_at_their_longest_stay_within_slacks_text_for_one_message(
    content: Any,
) -> None:
    """The pair's goals and every parked question at the longest they may be, each made
    of the characters that escaping lengthens most: the prompt is still one Slack takes
    (msg_blocks_too_long counts all the blocks' text), and the questions that do not fit
    are counted as waiting."""
    goal = {"what": "&" * 200, "why": "<" * 500, "by_when": "2026-04-01", "status": "open"}
    payload = {
        "pair_id": 1,
        "meeting_id": 2,
        "starts_at": (NOW + timedelta(days=1)).isoformat(),
        "minutes": 45,
        "number": 1,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "goals": [{**goal, "id": n, "position": n, "progress": None} for n in (1, 2, 3)],
        "questions": [
            {"id": n, "asked_by": MENTEE, "text": "&" * 500, "asked_at": NOW.isoformat()}
            for n in range(8)
        ],
        "questions_more": 12,
    }
    for kind in ("prep_mentee", "prep_mentor"):
        planned = PlannedMessage(TEAM, f"{kind}:2", kind, MENTOR, NOW, 1, 2, payload)
        message = render(content, claimed(planned))
        blocks = [b.to_dict() for b in message.blocks]
        assert not limits.validate_message_blocks(blocks), kind
        assert limits.blocks_text_length(blocks) <= 9_000, kind  # Slack: about 11,000
        assert "more" in str(blocks), kind  # the questions left out are counted


def test_what_finished_rows_keep_names_kinds_that_exist() -> None:
    """``KEPT_AFTER_DELIVERY`` lives with the store, which knows kinds only as strings:
    each must be a kind bot/outgoing.py plans, or its words would be kept after all."""
    from bot.store.outbox import KEPT_AFTER_DELIVERY

    kinds = {
        outgoing.PREP_SHARED,
        outgoing.POLL_UPDATE,
        outgoing.CHECKIN_UPDATE,
        outgoing.EXIT_ANSWERED,
    }
    assert set(KEPT_AFTER_DELIVERY) == kinds
