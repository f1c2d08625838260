"""What only a coordinator may do, when only Slack can tell who coordinates.

Matching the pool, exclusions, approving matches, nudging a pair and the weekly
chart. A
coordinator is listed in ``MENTOR_ADMINS`` or is a Slack admin or owner, and
either way a member of the workspace (``bot.domain.permissions.is_coordinator``).
Membership and admin rights come from ``users.info``, a Slack call that may not
happen before the ack. So the request is one outbox row (``as_coordinator``),
written with the ack; its delivery asks Slack, and then either carries the
request out in its settle step (``carry_out``: one transaction with the
messages it causes) or tells the person no, where they asked.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import outgoing
from bot.domain.errors import UserError
from bot.reporting import chart_comment, weekly_chart_png
from bot.services import care, matching, pool
from bot.services.answers import Home, refresh_home
from bot.services.insights import program_report
from bot.store import outbox
from bot.store.outbox import PlannedMessage

EXCLUDE, NUDGE, APPROVE, CHART = "exclude", "nudge", "approve", "chart"
MATCH = "match"  # /mentor match: the proposal, shown in the modal the command opened

REFUSALS = {
    EXCLUDE: "Only program coordinators can set matching exclusions.",
    NUDGE: "Only program coordinators can nudge pairs.",
    APPROVE: "Only program coordinators can approve matches.",
    CHART: "Only program coordinators can see the program's charts.",
    MATCH: "Only program coordinators can match the pool. Ask one of them, or use "
    "`/mentor start @person` to pair up directly.",
}
MATCHES_TITLE = "Proposed matches"
# How long a /mentor match request waits for the modal its listener opens after the ack
# (a trigger_id lasts 3 s; the Slack client's retries may add a few more). Past it the
# request goes without one, and is answered by DM.
MODAL_WAIT = timedelta(seconds=30)
NO_MODAL = (
    "I couldn't show you the proposed matches: the window didn't open in Slack. "
    "Nothing was matched. Run `/mentor match` again."
)


def ask(
    session: Session,
    request: str,
    *,
    team_id: str,
    by: str,
    admins: Collection[str],
    now: datetime,
    args: dict[str, Any],
    response_url: str | None = None,
    view_id: str | None = None,
) -> None:
    """Write the request; it is checked and carried out by its delivery."""
    if request not in REFUSALS:
        raise ValueError(f"unknown coordinator request {request!r}")
    outbox.plan(
        session,
        [
            outgoing.as_coordinator(
                request,
                team_id=team_id,
                by=by,
                listed=by in admins,
                now=now,
                args=args,
                response_url=response_url,
                view_id=view_id,
            )
        ],
        now=now,
    )


def ask_for_matches(
    session: Session,
    *,
    team_id: str,
    by: str,
    admins: Collection[str],
    now: datetime,
    topic_labels: dict[str, str],
) -> str:
    """``/mentor match``, before its ack: the request, written to wait for the modal the
    listener opens next (``modal_opened``), or ``MODAL_WAIT`` if it never hears (the
    process died after the ack). Returns the request's key."""
    planned = outgoing.as_coordinator(
        MATCH,
        team_id=team_id,
        by=by,
        listed=by in admins,
        now=now,
        args={"topic_labels": topic_labels},
        due_at=now + MODAL_WAIT,
    )
    outbox.plan(session, [planned], now=now)
    return planned.key


def modal_opened(session: Session, *, key: str, view_id: str | None, now: datetime) -> bool:
    """The listener opened the match modal (``view_id``), or could not (None): the
    request is due now, to answer in that modal or else by DM. False if it already went
    without (its wait ran out first)."""
    return outbox.release_waiting(
        session, key=key, now=now, payload={"view_id": view_id} if view_id else {}
    )


def exclusion_problem(user_id: str, user: Any, *, team_id: str) -> str | None:
    """Why ``user_id`` cannot be one side of an exclusion (as ``users.info`` describes
    them, None if Slack knows no such person here), or None: only people of this
    workspace who can be matched. Nothing is noted for a typo or a bot."""
    if user is not None and user.deleted:
        return f"<@{user_id}>'s account is deactivated, so nothing was noted."
    if user is None or not user.member_of(team_id):
        return f"I can't find <@{user_id}> in this workspace, so nothing was noted."
    if user.is_bot:
        return f"<@{user_id}> is a bot, which no match pairs anyway, so nothing was noted."
    return None


def refusal(request: str) -> str:
    return REFUSALS.get(request, "Only program coordinators can do that.")


def carry_out(
    session: Session,
    *,
    team_id: str,
    payload: dict[str, Any],
    now: datetime,
    coordinators: Collection[str] = (),
) -> None:
    """Settle step of a request whose author Slack confirmed as a coordinator: the
    change and its messages, in the transaction that marks the request done."""
    request, by, args = payload["request"], payload["by"], payload.get("args") or {}
    url = payload.get("response_url")
    planned: list[PlannedMessage] = []
    if request == EXCLUDE and args.get("lift"):
        lifted = pool.remove_exclusion(session, team_id=team_id, a=args["a"], b=args["b"])
        text = (
            f"Lifted: <@{args['a']}> and <@{args['b']}> may be matched again."
            if lifted
            else f"<@{args['a']}> and <@{args['b']}> were not excluded: nothing changed."
        )
        planned.append(_answer(team_id, by, text, url, now))
    elif request == EXCLUDE:
        pool.add_exclusion(session, team_id=team_id, a=args["a"], b=args["b"], by=by, now=now)
        text = f"Noted: <@{args['a']}> and <@{args['b']}> will not be matched."
        planned.append(_answer(team_id, by, text, url, now))
    elif request == NUDGE:
        text = care.nudge_at_risk(session, team_id=team_id, pair_id=int(args["pair_id"]), now=now)
        planned.append(_answer(team_id, by, text, url, now))
        # Pressed on their Home: the pair leaves its at-risk list there and then, not
        # only when they next open it.
        refresh_home(session, Home(team_id, by, listed=by in coordinators), now=now)
    elif request == APPROVE:
        selected = args.get("selected")
        try:
            approval = matching.approve(
                session,
                team_id=team_id,
                proposal_id=int(args["proposal_id"]),
                by=by,
                selected=None if selected is None else set(selected),
                shown=args.get("shown"),
                now=now,
            )
        except UserError as error:
            summary = str(error)
        else:
            summary = approval.summary()
            planned.append(outgoing.notice(team_id=team_id, user_id=by, text=summary, now=now))
        if payload.get("view_id"):
            planned.append(
                outgoing.view_update(
                    team_id=team_id,
                    user_id=by,
                    view_id=payload["view_id"],
                    title=MATCHES_TITLE,
                    text=summary,
                    now=now,
                )
            )
    elif request == MATCH and not payload.get("view_id"):
        planned.append(outgoing.notice(team_id=team_id, user_id=by, text=NO_MODAL, now=now))
    elif request == MATCH:
        proposal = matching.compute_proposal(
            session, team_id=team_id, by=by, now=now, topic_labels=args.get("topic_labels") or {}
        )
        planned.append(
            outgoing.match_review(
                team_id=team_id,
                user_id=by,
                view_id=payload["view_id"],
                proposal_id=proposal.id,
                pool_size=proposal.pool_size,
                now=now,
            )
        )
    elif request == CHART:
        report = program_report(
            session,
            team_id=team_id,
            now=now,
            viewer=by,  # as on their App Home: never counted in what they are shown
            coordinators=coordinators,
            minimum=int(args["minimum"]),
        )
        planned.append(
            outgoing.to_person(
                outgoing.WEEKLY_CHART,
                team_id=team_id,
                user_id=by,
                now=now,
                payload={
                    "png": base64.b64encode(weekly_chart_png(report)).decode("ascii"),
                    "comment": chart_comment(report),
                },
            )
        )
    outbox.plan(session, planned, now=now)


def _answer(
    team_id: str, user_id: str, text: str, url: str | None, now: datetime
) -> PlannedMessage:
    """On the request's response_url while it works, else as a DM."""
    return outgoing.answer(team_id=team_id, user_id=user_id, text=text, response_url=url, now=now)
