"""Matching the sign-up pool: a proposal coordinators review, then invitations."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import outgoing
from bot.domain.errors import Conflict, NotFound
from bot.services import pairing, pool
from bot.store import outbox, repo
from bot.store import pool as pool_store
from bot.store.models import MatchProposal
from bot.store.outbox import PlannedMessage

# Who approves a round from `mentor-bot match`: nobody to tell in Slack.
CLI = "cli"


@dataclass(frozen=True)
class ProposedLine:
    index: int
    mentor_id: str
    mentee_id: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ProposalView:
    id: int
    pairs: tuple[ProposedLine, ...]
    unmatched: tuple[str, ...]
    total_score: float
    method: str
    pool_size: int
    # The pool has a mentor and a different mentee (then no pair means they rule each
    # other out: an exclusion, a past pairing, a recent decline, no room left).
    both_sides: bool = False


def compute_proposal(
    session: Session,
    *,
    team_id: str,
    by: str,
    now: datetime,
    topic_labels: Mapping[str, str],
) -> ProposalView:
    # The solver (numpy and scipy, most of the process's memory) loads when a match
    # runs, not when `serve` starts.
    from bot.domain.matching import Candidate, propose

    entries = pool.matchable(session, team_id=team_id, now=now)
    candidates = [
        Candidate(
            user_id=e.user_id,
            roles=frozenset({"mentor", "mentee"} if e.roles == "both" else {e.roles}),
            topics=frozenset(e.topics),
            goals=e.goals,
            capacity=min(max(e.capacity, 1), 5),
            tz=e.tz,
            work_start=e.work_start,
            work_end=e.work_end,
        )
        for e in entries
    ]
    result = propose(
        candidates,
        past_pairs=pool.past_partners(session, team_id=team_id, now=now),
        exclusions=pool.exclusions(session, team_id=team_id),
        topic_labels=topic_labels,
        on=now.date(),
    )
    lines = tuple(
        ProposedLine(i, p.mentor_id, p.mentee_id, round(p.score, 4), tuple(p.reasons))
        for i, p in enumerate(result.pairs)
    )
    # Someone signed up as both and proposed as a mentor is matched this round: not
    # listed (nor told) as unmatched beside it for want of a mentor of their own.
    paired = {person for line in lines for person in (line.mentor_id, line.mentee_id)}
    unmatched = _waiting_for_a_match(
        session, team_id=team_id, people=[m for m in result.unmatched_mentees if m not in paired]
    )
    # Mentors with room whom no line names wait for the next round too, and hear so.
    # (A set to look in: a large pool's list would make this quadratic.)
    listed = paired | set(unmatched)
    unmatched += [c.user_id for c in candidates if "mentor" in c.roles and c.user_id not in listed]
    # One round open at a time: approving two (two coordinators, or one who ran it
    # twice) would tell the unmatched twice and invite on stale figures.
    pool_store.replace_open_proposals(session, team_id=team_id)
    row = MatchProposal(
        team_id=team_id,
        created_by=by,
        created_at=now,
        status="open",
        data={
            "pairs": [
                {
                    "mentor": p.mentor_id,
                    "mentee": p.mentee_id,
                    "score": p.score,
                    "reasons": list(p.reasons),
                }
                for p in lines
            ],
            "unmatched": unmatched,
            "both_sides": _both_sides(candidates),
            "total_score": result.total_score,
            "method": result.method,
        },
    )
    session.add(row)
    session.flush()
    return _view(row, pool_size=len(candidates))


def _both_sides(candidates: Sequence[Any]) -> bool:
    """A mentor and a different mentee are in the pool."""
    mentors = {c.user_id for c in candidates if "mentor" in c.roles}
    mentees = {c.user_id for c in candidates if "mentee" in c.roles}
    return bool(mentors) and bool(mentees) and len(mentors | mentees) > 1


def _view(row: MatchProposal, *, pool_size: int = 0) -> ProposalView:
    data = row.data
    return ProposalView(
        id=row.id,
        pairs=tuple(
            ProposedLine(i, p["mentor"], p["mentee"], p["score"], tuple(p["reasons"]))
            for i, p in enumerate(data.get("pairs", []))
        ),
        unmatched=tuple(data.get("unmatched", [])),
        total_score=float(data.get("total_score", 0.0)),
        method=str(data.get("method", "")),
        pool_size=pool_size,
        both_sides=bool(data.get("both_sides")),
    )


# The skipped lines an approval's summary names; it counts the rest.
SKIPPED_SHOWN = 10


@dataclass(frozen=True)
class Approval:
    invited: tuple[int, ...]  # pair ids
    skipped: tuple[str, ...]  # why some approved lines could not be invited
    unmatched: tuple[str, ...]
    left_out: int = 0  # lines the review modal had no room for

    def summary(self) -> str:
        """What the coordinator who approved is told."""
        invited, unmatched = len(self.invited), len(self.unmatched)
        text = (
            "Approved: 1 invitation is on its way."
            if invited == 1
            else f"Approved: {invited} invitations are on their way."
        )
        if self.skipped:
            # Each a line's why, ~120 characters: hundreds of them (a pool that changed
            # much since the review) would pass what one DM holds.
            shown = self.skipped[:SKIPPED_SHOWN]
            more = len(self.skipped) - len(shown)
            text += " Skipped: " + "; ".join(shown) + (f"; and {more} more." if more else ".")
        if unmatched:
            text += (
                " 1 person stays in the pool and has been told kindly."
                if unmatched == 1
                else f" {unmatched} people stay in the pool and have been told kindly."
            )
        if self.left_out:
            text += (
                f" {self.left_out} proposed {'pair' if self.left_out == 1 else 'pairs'} did "
                "not fit in the review and were left out, untold: run `/mentor match` again "
                "for them."
            )
        return text


def approve(
    session: Session,
    *,
    team_id: str,
    proposal_id: int,
    by: str,
    selected: Collection[int] | None,
    now: datetime,
    shown: int | None = None,
) -> Approval:
    """Invite the selected pairs (all when ``selected`` is None); tell the rest kindly.
    ``shown``: how many lines the coordinator saw (a modal holds only so many); the
    lines after them are left out, their people neither invited nor told, so the next
    ``/mentor match`` proposes them again.

    One transaction: the pairs, their invitations (the same rows as ``/mentor start``),
    the mentors' notices and the unmatched people's kind words, all outbox rows, so
    every one is delivered once, even if Slack is briefly away.
    """
    row = pool_store.get_proposal(session, team_id=team_id, proposal_id=proposal_id, lock=True)
    if row is None:
        raise NotFound("That proposal is gone. Run `/mentor match` again.")
    if row.status == "replaced":
        raise Conflict(
            "A newer round replaced this proposal (`/mentor match` run since by you or "
            "another coordinator, or `mentor-bot match`), so nothing was approved. Approve "
            "the newest, or run `/mentor match` again."
        )
    if row.status != "open":
        raise Conflict("That proposal was already handled. Run `/mentor match` for a fresh one.")
    view = _view(row)
    seen = view.pairs if shown is None else view.pairs[: max(0, shown)]
    left_out = len(view.pairs) - len(seen)
    chosen = {line.index for line in seen} if selected is None else set(selected)
    invited: list[int] = []
    skipped: list[str] = []
    not_chosen = [
        person
        for line in seen
        if line.index not in chosen
        for person in (line.mentee_id, line.mentor_id)
    ]
    # The pool as it is now: someone may have left, paused or been paired since the
    # proposal was made, and then is neither invited nor told "you stay in the pool".
    # A mentor's room is counted down as their lines are invited.
    free, in_pool = pool.pool_now(session, team_id=team_id, now=now)
    # Ruled out since (either way round, as the proposal rules them out): an exclusion
    # noted, or a "no" (declined, withdrawn, expired) or a pairing between the two.
    ruled_out = {
        frozenset(two)
        for two in (
            *pool.past_partners(session, team_id=team_id, now=now),
            *pool.exclusions(session, team_id=team_id),
        )
    }
    mentees_now = {e.user_id for e in free if e.roles in ("mentee", "both")}
    room = {e.user_id: e.capacity for e in free if e.roles in ("mentor", "both")}
    planned: list[PlannedMessage] = []
    invited_lines: list[int] = []
    # People of a skipped line still free to match: told their match fell through, and
    # that they stay in the pool (not that no match fitted them).
    still_free: list[str] = []
    for line in seen:
        if line.index not in chosen:
            continue
        if repo.open_pair_between(session, team_id=team_id, a=line.mentor_id, b=line.mentee_id):
            skipped.append(
                f"<@{line.mentor_id}> and <@{line.mentee_id}> are already paired, or one "
                "has invited the other"
            )
            continue
        mentee_free = line.mentee_id in mentees_now
        mentor_free = room.get(line.mentor_id, 0) > 0
        why = None
        if frozenset((line.mentor_id, line.mentee_id)) in ruled_out:
            why = (
                "ruled out since the proposal (an exclusion, a past pairing, or an "
                "invitation between them declined, withdrawn or expired)"
            )
        elif not (mentor_free and mentee_free):
            gone = [
                who
                for who, free in ((line.mentor_id, mentor_free), (line.mentee_id, mentee_free))
                if not free
            ]
            why = (
                " and ".join(f"<@{who}>" for who in gone)
                + (" is" if len(gone) == 1 else " are")
                + " no longer free to match (left the pool, paused, or paired since)"
            )
        if why is not None:
            skipped.append(f"<@{line.mentor_id}> and <@{line.mentee_id}>: {why}")
            still_free += [line.mentee_id] if mentee_free else []
            still_free += [line.mentor_id] if mentor_free else []
            continue
        room[line.mentor_id] -= 1
        invited_lines.append(line.index)
        # The same invitation as /mentor start, in the mentor's name; should Slack say
        # the mentee cannot be invited, the coordinator who approved hears why.
        pair_id = pairing.create_pair(
            session,
            team_id=team_id,
            inviter_id=line.mentor_id,
            invitee_id=line.mentee_id,
            inviter_role="mentor",
            now=now,
            tell=None if by == CLI else by,
            matched=True,
        )
        invited.append(pair_id)
        planned.append(
            PlannedMessage(
                team_id=team_id,
                key=f"match_notice:{pair_id}",
                kind=outgoing.MATCH_NOTICE,
                recipient=line.mentor_id,
                due_at=now,
                pair_id=pair_id,
                payload={"pair_id": pair_id, "mentee_id": line.mentee_id},
            )
        )
    # Told kindly that they stay in the pool: whoever this round leaves without a pair
    # (never someone an approved line just invited, as mentor or mentee).
    invited_people = {
        person
        for line in seen
        if line.index in invited_lines
        for person in (line.mentor_id, line.mentee_id)
    }
    left_unmatched = _waiting_for_a_match(
        session,
        team_id=team_id,
        people=[
            person
            for person in dict.fromkeys((*view.unmatched, *not_chosen, *still_free))
            if person in in_pool and person not in invited_people
        ],
    )
    fell_through = set(still_free)
    for person in left_unmatched:
        planned.append(
            PlannedMessage(
                team_id=team_id,
                key=f"match_unmatched:{row.id}:{person}",
                kind=outgoing.MATCH_UNMATCHED,
                recipient=person,
                due_at=now,
                payload={"proposal_id": row.id, "fell_through": person in fell_through},
            )
        )
    outbox.plan(session, planned, now=now)
    row.status = "approved"
    # The lines that became invitations (a person's my-data says which of theirs did).
    row.data = {**row.data, "approved_by": by, "approved": invited_lines}
    return Approval(
        invited=tuple(invited),
        skipped=tuple(skipped),
        unmatched=tuple(left_unmatched),
        left_out=left_out,
    )


def _waiting_for_a_match(session: Session, *, team_id: str, people: list[str]) -> list[str]:
    """Of ``people`` left without a mentor this round, those to list and tell kindly that
    they wait: not anyone a pairing under way already gives a mentor (as
    ``roles_open`` has it for the pool line)."""
    mentored = {mentee for _mentor, mentee in pool_store.open_pairs(session, team_id=team_id)}
    return [person for person in people if person not in mentored]


def get_proposal(session: Session, *, team_id: str, proposal_id: int) -> ProposalView:
    row = pool_store.get_proposal(session, team_id=team_id, proposal_id=proposal_id)
    if row is None:
        raise NotFound("That proposal is gone. Run `/mentor match` again.")
    return _view(row)
