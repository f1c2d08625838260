"""Delivering one claimed outbox row: the Slack calls its kind needs, then its settle step.

Most kinds are one ``chat.postMessage`` of what ``render`` builds from the row's
payload, and the engine marks the row sent. The others are here, each in two
parts: the Slack calls (made with the row claimed and nothing held open in the
database), and a settle step that records what Slack answered and marks the row,
in one transaction. A settle step first marks the row it holds: if the lease was
lost meanwhile (another worker took the row over), it changes nothing else, so
a row's effect is applied at most once even when its message went twice.

- ``invitation``: ``users.info`` on the invitee (and on anyone whose time zone is
  stale); someone Slack does not know, a bot or a deactivated account is not
  invited: the pair is withdrawn and the person who asked is told why. Otherwise
  the DM with Accept / Decline; the settle step records where it is, the people's
  time zones, and plans the inviter's confirmation. While users.info has no slot
  free (a burst past its 100 a minute) the DM goes without that check: Slack
  refuses a DM to a bot or a deactivated account itself, and the check follows
  as an ``invitee_check`` row, spaced at users.info's pace: someone who cannot be
  invited after all has the invitation withdrawn and the person who asked told by DM;
  anyone else has their time zone recorded.
- ``kickoff``: ``conversations.open`` with both members, then the first message;
  the settle step records the group DM on the pair. It is retried until it exists,
  unless Slack refuses it because of a member (opening it or posting in it:
  ``user_disabled``, ``is_archived``, ``not_in_channel`` …): then the row fails, the
  pair ends with what waited for its group DM, and both members are told by DM.
- Rows to ``pair:<id>`` (the group DM) wait for the kickoff, then go to its channel.
- ``invitation_closed``, ``poll_update``, ``tip_update``: ``chat.update`` in place.
- ``respond``: a stored response_url (ephemeral), with a DM when it has expired.
- ``as_coordinator``: ``users.info`` on the person asking; the request is carried
  out in the settle step, or refused where they asked.
- ``join_confirmed``: ``users.info`` for the person's time zone, then the DM.
- ``my_data`` / ``my_data_file``: the export's message, then its file.
- ``weekly_chart``: a coordinator's PNG, shared in their DM (``conversations.open``).
- ``view_update``: ``views.update`` of a modal still open.
- ``home_refresh``: ``users.info``, then ``views.publish`` of the person's App Home as
  the database holds it then (the row's key freed first, the row deleted after).
- ``match_review``: ``views.update`` of the modal ``/mentor match`` opened, with the
  proposal its request computed.
- ``forgotten``: forget-me's answer as a DM when there was no response_url; deleted.
- ``checkin_update`` / ``exit_answered``: ``chat.update`` of the check-in or the exit
  offer; ``exit_coordinator``: ``users.info`` first, sent only to a coordinator of
  this workspace.
- ``goal_card``: the pair's goals, posted in the group DM once (its place kept),
  ``chat.update``d afterwards, built from the goals as they are at send time.
- ``prep_mentee`` / ``prep_mentor`` / ``feedback`` / ``poll_update``: the pair's goals
  and parked questions are read at send time and added to the payload in memory.
- ``calendar_file``: the ``.ics`` of meetings set, moved or cancelled, built now from
  the row's payload and shared in the pair's group DM (one upload, one message); the
  settle step records the files, so forget-me deletes them with the group DM's messages.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import outgoing
from bot.content import Content
from bot.domain.errors import UserError
from bot.domain.permissions import is_coordinator
from bot.scheduling.home import home_page
from bot.scheduling.render import render
from bot.scheduling.sender import DeliveryError, Posted, SlackSender
from bot.services import coordinators, goals, matching, pairing, privacy
from bot.slackapi import user_from_info
from bot.store import outbox, posted, repo
from bot.store.db import Database
from bot.store.outbox import ClaimedMessage
from bot.views.calendar import calendar_file, event_of
from bot.views.common import mention, notice_modal, section
from bot.views.pool import match_review_modal
from bot.views.privacy import MY_DATA_FILENAME, my_data_file, my_data_fits

logger = logging.getLogger(__name__)

Settle = Callable[[Session], Any]

# The invitee is checked before the invitation while users.info's next slot is at most
# this far off (see ``Delivery._invitation``).
CHECK_FIRST_WAIT = 0.05
# A group DM message waits this long past its pair's kickoff before it looks again.
GROUP_WAIT = timedelta(seconds=5)
# chat.update / views.update answers that mean there is nothing left to update.
GONE = frozenset(
    {
        "message_not_found",
        "cant_update_message",
        "channel_not_found",
        "edit_window_closed",
        "not_found",
        "view_not_found",
    }
)


# Rows planned by an earlier version for approved matches, read as the invitations
# they are (a deploy may find some still waiting).
LEGACY_MATCH_INVITE = "match_invite"


def _as_invitation(message: ClaimedMessage) -> ClaimedMessage:
    p = message.payload
    return replace(
        message,
        kind=outgoing.INVITATION,
        payload={
            "pair_id": p["pair_id"],
            "inviter_id": p["mentor_id"],
            "invitee_id": p["mentee_id"],
            "inviter_role": "mentor",
            "tell": p["mentor_id"],
            "look_up": [p["mentee_id"]],
        },
    )


@dataclass(frozen=True)
class Done:
    """What a delivery did: ``outcome`` for the pass's report; ``posted`` for a plain
    message, which the engine marks sent; or ``settle``, which marks the row itself."""

    outcome: str
    posted: Posted | None = None
    settle: Settle | None = None


class Delivery:
    def __init__(
        self,
        db: Database,
        sender: SlackSender,
        content: Content,
        *,
        worker: str,
        coordinators: Collection[str] = (),
    ) -> None:
        self.db = db
        # MENTOR_ADMINS: whose answers the figures a delivery shows leave out.
        self.coordinators = frozenset(coordinators)
        self.sender = sender
        self.content = content
        self.worker = worker
        # When each workspace's next unchecked invitee is checked (``_check_slot``).
        self._next_check: dict[str, datetime] = {}
        self._check_lock = threading.Lock()
        self._steps: dict[str, Callable[[ClaimedMessage, datetime], Done]] = {
            outgoing.INVITATION: self._invitation,
            outgoing.INVITEE_CHECK: self._invitee_check,
            outgoing.KICKOFF: self._kickoff,
            outgoing.INVITATION_CLOSED: self._invitation_closed,
            outgoing.POLL_UPDATE: self._update_in_place,
            outgoing.TIP_UPDATE: self._update_in_place,
            outgoing.RESPOND: self._respond,
            outgoing.AS_COORDINATOR: self._as_coordinator,
            outgoing.JOIN_CONFIRMED: self._join_confirmed,
            outgoing.MY_DATA: self._my_data,
            outgoing.MY_DATA_FILE: self._my_data_file,
            outgoing.WEEKLY_CHART: self._weekly_chart,
            outgoing.VIEW_UPDATE: self._view_update,
            outgoing.CHECKIN_UPDATE: self._update_in_place,
            outgoing.EXIT_ANSWERED: self._update_or_post,
            outgoing.EXIT_COORDINATOR: self._to_coordinator,
            outgoing.GOAL_CARD: self._goal_card,
            outgoing.HOME_REFRESH: self._home_refresh,
            outgoing.MATCH_REVIEW: self._match_review,
            outgoing.FORGOTTEN: self._forgotten,
            outgoing.CALENDAR_FILE: self._calendar_file,
            outgoing.CLOSING_POLL: self._closing_poll,
        }

    def send(self, message: ClaimedMessage, now: datetime) -> Done:
        if message.kind == LEGACY_MATCH_INVITE:
            message = _as_invitation(message)
        message = self._with_goals(message)
        step = self._steps.get(message.kind)
        if step is not None:
            return step(message, now)
        return self._post(message, now)

    # ------------------------------------------------------------ goals and questions

    def _with_goals(self, message: ClaimedMessage) -> ClaimedMessage:
        """Prep prompts and feedback polls show the pair's goals and parked questions
        as they are when the message goes out: read now, added to the payload in
        memory only (the row keeps no words)."""
        p, team = message.payload, message.team_id
        if message.kind in (outgoing.PREP_MENTEE, outgoing.PREP_MENTOR) and p.get("pair_id"):
            extra = self.db.view(
                goals.prep_extras,
                team_id=team,
                pair_id=p["pair_id"],
                meeting_id=p.get("meeting_id"),
            )
        elif message.kind in (outgoing.FEEDBACK, outgoing.POLL_UPDATE) and p.get("meeting_id"):
            extra = self.db.view(
                goals.poll_goals,
                team_id=team,
                pair_id=p["pair_id"],
                meeting_id=p["meeting_id"],
                user_id=message.recipient,
            )
        else:
            return message
        return replace(message, payload={**p, **extra}) if extra else message

    def _goal_card(self, message: ClaimedMessage, now: datetime) -> Done:
        """The goal card: posted in the group DM the first time (its place kept on the
        pair), ``chat.update``d afterwards; built from the goals as they are now."""
        team, pair_id = message.team_id, message.payload["pair_id"]
        data = self.db.view(goals.card_data, team_id=team, pair_id=pair_id)
        if data is None:
            return self._skip(message, "the pair is gone")
        if data["channel"] is None:
            return self._wait_for_group(message, pair_id, now)
        message = replace(message, payload={**message.payload, **data})
        text, blocks = self._blocks(message)
        if data["card"]:
            channel, ts = data["card"]
            try:
                self.sender.update(team, channel, ts, text=text, blocks=blocks)
            except DeliveryError as error:
                if error.error not in GONE:
                    raise
            else:
                return Done(
                    "sent",
                    settle=lambda s: self._mark_sent(s, message, now, channel, ts),
                )
        # The first card, or one deleted in Slack since: a new one, remembered.
        sent = self.sender.post(team, data["channel"], text=text, blocks=blocks)

        def posted_card(session: Session) -> None:
            if self._mark_sent(session, message, now, sent.channel, sent.ts):
                goals.card_posted(
                    session,
                    team_id=team,
                    pair_id=pair_id,
                    channel_id=sent.channel,
                    ts=sent.ts,
                    now=now,
                    replacing=tuple(data["card"]) if data["card"] else None,
                )

        return Done("sent", settle=posted_card)

    # ------------------------------------------------------------ plain messages

    def _post(self, message: ClaimedMessage, now: datetime) -> Done:
        channel = message.recipient
        pair_id = outgoing.group_pair_id(channel)
        if pair_id is not None:
            group = self.db.view(repo.pair_channel, team_id=message.team_id, pair_id=pair_id)
            if group is None:
                return self._wait_for_group(message, pair_id, now)
            channel = group
        out = render(self.content, message)
        posted_ = self.sender.post(
            message.team_id, channel, text=out.text, blocks=[b.to_dict() for b in out.blocks]
        )
        return Done("sent", posted=posted_)

    def _mark_sent(
        self, session: Session, message: ClaimedMessage, now: datetime, channel: str, ts: str
    ) -> bool:
        """The row sent, where Slack put it; False if this worker's claim was lost
        meanwhile (then the caller changes nothing else), or the row was forgotten (then
        the message goes from Slack too)."""
        if outbox.mark_sent(
            session,
            message_id=message.id,
            worker=self.worker,
            now=now,
            channel_id=channel,
            ts=ts,
            payload=outbox.kept_after_delivery(message.kind, message.payload),
        ):
            return True
        return self._forgotten_meanwhile(session, message, now, channel, ts=ts)

    def _files_shared(
        self,
        session: Session,
        message: ClaimedMessage,
        now: datetime,
        channel: str,
        files: list[str],
    ) -> bool:
        """The row done, its files shared; False if this worker's claim was lost, or the
        row was forgotten meanwhile (then the files go from Slack too)."""
        if outbox.mark_done(session, message_id=message.id, worker=self.worker, now=now):
            return True
        return self._forgotten_meanwhile(session, message, now, channel, files=files)

    def _forgotten_meanwhile(
        self,
        session: Session,
        message: ClaimedMessage,
        now: datetime,
        channel: str,
        *,
        ts: str | None = None,
        files: list[str] | None = None,
    ) -> bool:
        """A settle that found the row no longer this worker's: if forget-me emptied it
        on the way, what Slack just took goes from Slack too. Always False."""
        privacy.forgotten_in_flight(
            session,
            team_id=message.team_id,
            message_id=message.id,
            worker=self.worker,
            channel=channel,
            ts=ts,
            files=files or (),
            now=now,
        )
        return False

    def _wait_for_group(self, message: ClaimedMessage, pair_id: int, now: datetime) -> Done:
        """The pair's group DM does not exist yet: wait for its kickoff, or, when there is
        none to wait for (the pair ended first, or Slack refused it for good), skip."""
        kickoff_at = self.db.view(outbox.wait_for, pair_id=pair_id, kind=outgoing.KICKOFF)
        if kickoff_at is None:
            return self._skip(message, "the pair has no group DM")
        return self._wait(message, max(kickoff_at, now), outbox.WAITING_FOR_GROUP_DM)

    def _wait(self, message: ClaimedMessage, until: datetime, reason: str) -> Done:
        """Try ``message`` again a little after ``until``, when what it waits for is due."""
        return Done(
            "waiting",
            settle=lambda s: outbox.defer(
                s,
                message_id=message.id,
                worker=self.worker,
                due_at=until + GROUP_WAIT,
                reason=reason,
            ),
        )

    def _closing_poll(self, message: ClaimedMessage, now: datetime) -> Done:
        """Each member's closing poll, once the group DM has heard that the pairing
        ended (rows to different conversations go side by side: a poll due a minute on
        could still overtake a "has ended" held back by Slack's limits)."""
        pair_id = message.payload.get("pair_id")
        # Not for a row paused with its conversation (archived, say): nothing resumes a
        # group DM's rows, and the polls would wait for ever.
        ended_at = (
            self.db.view(
                outbox.wait_for,
                pair_id=pair_id,
                kind=outgoing.PAIR_ENDED,
                still=("pending", "sending", "held"),
            )
            if pair_id is not None
            else None
        )
        if ended_at is None:
            return self._post(message, now)
        return self._wait(
            message, max(ended_at, now), "waiting for the group DM to hear the pairing ended"
        )

    def _skip(self, message: ClaimedMessage, reason: str) -> Done:
        return Done(
            "skipped",
            settle=lambda s: outbox.mark_skipped(
                s,
                message_id=message.id,
                worker=self.worker,
                reason=reason,
                payload=outbox.kept_after_delivery(message.kind, message.payload),
            ),
        )

    def _discard(self, outcome: str, message: ClaimedMessage) -> Done:
        return Done(
            outcome,
            settle=lambda s: outbox.discard(s, message_id=message.id, worker=self.worker),
        )

    def _withdrawn(self, message: ClaimedMessage, pair_id: int) -> Done:
        """An invitation (or its check) that found the invitee cannot be invited: the row
        goes, and with it the pair, if this worker still holds the row."""

        def withdraw(session: Session) -> None:
            if outbox.discard(session, message_id=message.id, worker=self.worker):
                pairing.withdraw_invitation(session, team_id=message.team_id, pair_id=pair_id)

        return Done("refused", settle=withdraw)

    def _match_withdrawn(
        self, message: ClaimedMessage, pair_id: int, refusal: str, now: datetime
    ) -> Done:
        """``_withdrawn`` for a coordinators' match: who is told, and the pool, are the
        use case's (``pairing.withdraw_match``), in the same transaction."""
        p = message.payload
        tell = p.get("tell")
        coordinator = None if tell in (None, matching.CLI) else tell

        def withdraw(session: Session) -> None:
            if outbox.discard(session, message_id=message.id, worker=self.worker):
                pairing.withdraw_match(
                    session,
                    team_id=message.team_id,
                    pair_id=pair_id,
                    tell=coordinator,
                    refusal=refusal,
                    now=now,
                )

        return Done("refused", settle=withdraw)

    def _blocks(self, message: ClaimedMessage) -> tuple[str, list[dict[str, Any]]]:
        out = render(self.content, message)
        return out.text, [b.to_dict() for b in out.blocks]

    # ------------------------------------------------------------ pairing

    def _check_invitee(
        self, team: str, inviter: str, invitee: str, people: dict[str, tuple[str, str]]
    ) -> str | None:
        """users.info on the invitee: why they cannot be invited, or None (and their
        time zone and name added to ``people``)."""
        try:
            user = user_from_info(invitee, self.sender.user_info(team, invitee))
        except DeliveryError as error:
            if error.outcome != "person":  # user_not_found: not someone to invite
                raise
            return pairing.unknown_invitee(invitee)
        people[invitee] = (user.tz, user.name)
        try:
            pairing.check_invitee(
                inviter_id=inviter,
                invitee=pairing.Invitee(
                    user_id=invitee,
                    name=user.name,
                    tz=user.tz,
                    is_bot=user.is_bot,
                    deleted=user.deleted,
                ),
            )
        except UserError as error:
            return str(error)
        return None

    def _invitation(self, message: ClaimedMessage, now: datetime) -> Done:
        p, team = message.payload, message.team_id
        pair_id, inviter, invitee = p["pair_id"], p["inviter_id"], p["invitee_id"]
        if not self.db.read(pairing.invitation_wanted, team_id=team, pair_id=pair_id):
            return self._skip(message, "the invitation was answered or withdrawn")
        people: dict[str, tuple[str, str]] = {}
        refusal = None
        # Slack is asked about the invitee first (a bot? deactivated?) while users.info
        # has a slot now. In a burst beyond its 100 a minute the invitation goes at once
        # instead: Slack refuses a DM to a bot or a deactivated account itself, and the
        # time zone is read by a later pass (``Engine._refresh_time_zones``).
        check_first = self.sender.ready_in(team, "users.info") <= CHECK_FIRST_WAIT
        if check_first:
            refusal = self._check_invitee(team, inviter, invitee, people)
            for user_id in p.get("look_up") or ():
                if refusal is not None or user_id == invitee:
                    continue
                if self.db.view(repo.recent_tz, team_id=team, user_id=user_id, now=now):
                    continue  # an earlier invitation of theirs just asked Slack
                try:  # the inviter's time zone, when the bot has not met them lately
                    other = user_from_info(user_id, self.sender.user_info(team, user_id))
                except DeliveryError as error:
                    if error.outcome == "workspace":
                        raise
                    continue
                people[user_id] = (other.tz, other.name)
        if refusal is None:
            text, blocks = self._blocks(message)
            try:
                sent = self.sender.post(team, invitee, text=text, blocks=blocks)
            except DeliveryError as error:
                if error.outcome != "person":
                    raise
                refusal = pairing.undeliverable_invitation(
                    invitee, error.error, checked=check_first
                )
        if refusal is not None:
            if p.get("matched"):
                return self._match_withdrawn(message, pair_id, refusal, now)
            self._tell(team, p.get("tell") or inviter, refusal, url=p.get("response_url"))
            return self._withdrawn(message, pair_id)
        # Unchecked: the check follows at users.info's pace (``_invitee_check``).
        check_at = None if check_first else self._check_slot(team, now)
        confirmation = None
        if p.get("response_url"):
            invitee_role = "mentor" if p.get("inviter_role") == "mentee" else "mentee"
            text = self.content.message(
                "invite_sent", invitee=mention(invitee), invitee_role=invitee_role
            )
            confirmation = (inviter, p["response_url"], text)

        def delivered(session: Session) -> None:
            if self._mark_sent(session, message, now, sent.channel, sent.ts):
                pairing.invitation_delivered(
                    session,
                    team_id=team,
                    pair_id=pair_id,
                    channel_id=sent.channel,
                    ts=sent.ts,
                    zones=people,
                    confirmation=confirmation,
                    now=now,
                    check_at=check_at,
                    tell=p.get("tell"),
                    matched=bool(p.get("matched")),
                )

        return Done("sent", settle=delivered)

    def _check_slot(self, team: str, now: datetime) -> datetime:
        """When an unchecked invitee's check is due: each a users.info slot later than
        the one before in this workspace, so that a burst's checks wait in the outbox
        for their turn instead of each holding a delivery thread on the pacer."""
        with self._check_lock:
            soonest = now + timedelta(seconds=self.sender.ready_in(team, "users.info"))
            at = max(self._next_check.get(team, soonest), soonest)
            self._next_check[team] = at + timedelta(seconds=self.sender.interval("users.info"))
            return at

    def _invitee_check(self, message: ClaimedMessage, now: datetime) -> Done:
        """The check an invitation in a burst went without: a person who can be invited
        has their time zone and name recorded; anyone else (a bot, deactivated, unknown
        to Slack) has the invitation withdrawn, if still unanswered, and the person who
        asked is told by DM."""
        p, team = message.payload, message.team_id
        pair_id, invitee = p["pair_id"], p["invitee_id"]
        people: dict[str, tuple[str, str]] = {}
        refusal = self._check_invitee(team, p["inviter_id"], invitee, people)
        if refusal is None:

            def checked(session: Session) -> None:
                if outbox.discard(session, message_id=message.id, worker=self.worker):
                    pairing.record_people(session, team_id=team, zones=people, now=now)

            return Done("checked", settle=checked)
        if not self.db.read(pairing.invitation_wanted, team_id=team, pair_id=pair_id):
            return self._discard("skipped", message)  # answered or withdrawn meanwhile
        if p.get("matched"):
            return self._match_withdrawn(message, pair_id, refusal, now)
        self._tell(team, p["tell"], refusal)
        return self._withdrawn(message, pair_id)

    def _kickoff(self, message: ClaimedMessage, now: datetime) -> Done:
        p, team = message.payload, message.team_id
        if not self.db.read(pairing.kickoff_wanted, team_id=team, pair_id=p["pair_id"]):
            return self._skip(message, "the pair is no longer active")
        try:
            channel = self.sender.open_conversation(team, [p["mentor_id"], p["mentee_id"]])
            text, blocks = self._blocks(message)
            sent = self.sender.post(team, channel, text=text, blocks=blocks)
        except DeliveryError as error:
            if error.outcome == "person":  # because of a member: never, not later
                return self._kickoff_refused(message, error.error, now)
            raise

        def opened(session: Session) -> None:
            if self._mark_sent(session, message, now, sent.channel, sent.ts):
                pairing.kickoff_delivered(
                    session, team_id=team, pair_id=p["pair_id"], channel_id=sent.channel, now=now
                )

        return Done("sent", settle=opened)

    def _kickoff_refused(self, message: ClaimedMessage, reason: str, now: datetime) -> Done:
        """Slack refused the group DM for good (opening it, or posting in it, because of
        a member): the row fails, the pair ends with everything that waited for its
        group DM, and both members are told in their own DMs, in one transaction."""
        p, team = message.payload, message.team_id
        mentor, mentee = p["mentor_id"], p["mentee_id"]
        tell = {
            mentor: self.content.message("kickoff_refused", partner=mention(mentee), reason=reason),
            mentee: self.content.message("kickoff_refused", partner=mention(mentor), reason=reason),
        }

        def refused(session: Session) -> None:
            if outbox.mark_failed(session, message_id=message.id, worker=self.worker, error=reason):
                pairing.kickoff_refused(
                    session, team_id=team, pair_id=p["pair_id"], tell=tell, now=now
                )

        return Done("refused", settle=refused)

    def _invitation_closed(self, message: ClaimedMessage, now: datetime) -> Done:
        where = self.db.read(
            pairing.invitation_message, team_id=message.team_id, pair_id=message.payload["pair_id"]
        )
        if where is None:
            return self._skip(message, "the invitation was never delivered")
        return self._update(message, now, *where)

    # ------------------------------------------------------------ in place

    def _update_in_place(self, message: ClaimedMessage, now: datetime) -> Done:
        return self._update(message, now, message.payload["channel"], message.payload["ts"])

    def _update(self, message: ClaimedMessage, now: datetime, channel: str, ts: str) -> Done:
        try:
            text, blocks = self._blocks(message)
        except KeyError:  # a tip whose practice was removed from content since
            return self._skip(message, "nothing to show any more")
        try:
            self.sender.update(message.team_id, channel, ts, text=text, blocks=blocks)
        except DeliveryError as error:
            if error.error in GONE:
                return self._skip(message, error.error)
            raise
        return Done(
            "sent",
            settle=lambda s: self._mark_sent(s, message, now, channel, ts),
        )

    # ------------------------------------------------------------ answers

    def _respond(self, message: ClaimedMessage, now: datetime) -> Done:
        p = message.payload
        body = dict(p.get("body") or {})
        try:
            try:
                self.sender.respond(p["url"], body)
            except DeliveryError as error:
                if not (body.get("replace_original") and "message_not_found" in error.error):
                    raise
                # The question it answers is gone: the answer comes as a message of its own.
                self.sender.respond(p["url"], {**body, "replace_original": False})
        except DeliveryError as error:
            if error.outcome != "permanent":
                raise
            text = body.get("text")
            if not (p.get("dm_fallback") and text):
                return self._discard("skipped", message)
            logger.info("a response_url no longer answers (%s): sent as a DM", error.error)
            self.sender.post(
                message.team_id, message.recipient, text=text, blocks=[section(text).to_dict()]
            )
        # Ephemeral: nothing in Slack to keep track of, and the URL is a credential.
        return self._discard("sent", message)

    def _tell(
        self,
        team_id: str,
        user_id: str,
        text: str,
        *,
        url: str | None = None,
        view_id: str | None = None,
        title: str = "Mentor Bot",
    ) -> None:
        """A refusal, where the person asked: on the response_url while it works, in the
        modal they are looking at, or else as a DM."""
        if url:
            try:
                self.sender.respond(
                    url, {"text": text, "response_type": "ephemeral", "replace_original": False}
                )
                return
            except DeliveryError as error:
                if error.outcome != "permanent":
                    raise
        if view_id:
            try:
                self.sender.update_view(team_id, view_id, notice_modal(title, text))
                return
            except DeliveryError as error:
                if error.outcome == "workspace":
                    raise
        self.sender.post(team_id, user_id, text=text, blocks=[section(text).to_dict()])

    def _as_coordinator(self, message: ClaimedMessage, now: datetime) -> Done:
        p, team = message.payload, message.team_id
        by = p["by"]
        try:
            user = user_from_info(by, self.sender.user_info(team, by))
        except DeliveryError as error:
            if error.outcome != "person":
                raise
            user = None  # not a member of this workspace
        allowed = user is not None and is_coordinator(
            by,
            admins=frozenset({by}) if p.get("listed") else frozenset(),
            slack_admin=user.is_admin,
            member=user.member_of(team),
        )
        problem = None if allowed else coordinators.refusal(p["request"])
        # Lifting one needs no look at the two: anyone may be matched again, gone or not.
        lifting = bool((p.get("args") or {}).get("lift"))
        if allowed and p["request"] == coordinators.EXCLUDE and not lifting:
            problem = self._exclusion_problem(team, p.get("args") or {})
        if problem is not None:
            self._tell(
                team,
                by,
                problem,
                url=p.get("response_url"),
                view_id=p.get("view_id"),
                title=coordinators.MATCHES_TITLE,
            )
            return self._discard("refused", message)

        def carried_out(session: Session) -> None:
            if outbox.mark_done(session, message_id=message.id, worker=self.worker, now=now):
                coordinators.carry_out(
                    session, team_id=team, payload=p, now=now, coordinators=self.coordinators
                )

        return Done("sent", settle=carried_out)

    def _exclusion_problem(self, team: str, args: dict[str, Any]) -> str | None:
        """Both people of an exclusion, as Slack knows them: the first that cannot be one."""
        for user_id in (args.get("a"), args.get("b")):
            try:
                user = user_from_info(user_id, self.sender.user_info(team, user_id))
            except DeliveryError as error:
                if error.outcome != "person":
                    raise
                user = None  # user_not_found: not a person of this workspace
            problem = coordinators.exclusion_problem(user_id, user, team_id=team)
            if problem is not None:
                return problem
        return None

    # ------------------------------------------------------------ the pool, my data

    def _join_confirmed(self, message: ClaimedMessage, now: datetime) -> Done:
        team, user_id = message.team_id, message.recipient
        zone = None
        try:
            zone = user_from_info(user_id, self.sender.user_info(team, user_id)).tz
        except DeliveryError as error:
            if error.outcome == "workspace":
                raise
            logger.info("time zone of a new pool member not read: %s", error.error)
        text, blocks = self._blocks(message)
        sent = self.sender.post(team, user_id, text=text, blocks=blocks)

        def joined(session: Session) -> None:
            if self._mark_sent(session, message, now, sent.channel, sent.ts) and zone:
                repo.ensure_person(session, team_id=team, user_id=user_id, tz=zone, checked_at=now)

        return Done("sent", settle=joined)

    def _my_data(self, message: ClaimedMessage, now: datetime) -> Done:
        team, user_id = message.team_id, message.recipient
        data = message.payload.get("data") or {}
        names = list(message.payload.get("names") or [])
        text, blocks = self._blocks(message)
        sent = self.sender.post(team, user_id, text=text, blocks=blocks)

        def exported(session: Session) -> None:
            if not self._mark_sent(session, message, now, sent.channel, sent.ts):
                return
            outbox.forget_payload(session, message_id=message.id)
            _keep_export(
                session,
                team=team,
                kind=posted.MY_DATA,
                channel=sent.channel,
                owner=user_id,
                names=names,
                ts=sent.ts,
                now=now,
            )
            if not my_data_fits(data):
                outbox.plan(
                    session,
                    [
                        outgoing.to_person(
                            outgoing.MY_DATA_FILE,
                            team_id=team,
                            user_id=user_id,
                            now=now,
                            payload={"channel": sent.channel, "data": data, "names": names},
                        )
                    ],
                    now=now,
                )

        return Done("sent", settle=exported)

    def _my_data_file(self, message: ClaimedMessage, now: datetime) -> Done:
        team, user_id = message.team_id, message.recipient
        channel = message.payload["channel"]
        names = list(message.payload.get("names") or [])
        files = self.sender.upload(
            team,
            channel,
            content=my_data_file(message.payload.get("data") or {}),
            filename=MY_DATA_FILENAME,
            title="Your data in Mentor Bot (JSON)",
        )

        def shared(session: Session) -> None:
            if not self._files_shared(session, message, now, channel, files):
                return
            outbox.forget_payload(session, message_id=message.id)
            for file_id in files:
                _keep_export(
                    session,
                    team=team,
                    kind=posted.MY_DATA_FILE,
                    channel=channel,
                    owner=user_id,
                    names=names,
                    file_id=file_id,
                    now=now,
                )

        return Done("sent", settle=shared)

    def _weekly_chart(self, message: ClaimedMessage, now: datetime) -> Done:
        # Files are shared into a conversation ID; the bot's DM with the person is one.
        channel = self.sender.open_conversation(message.team_id, [message.recipient])
        self.sender.upload(
            message.team_id,
            channel,
            content=base64.b64decode(message.payload["png"]),
            filename="mentor-bot-weekly.png",
            title="People who gave feedback, per week",
            comment=message.payload.get("comment"),
        )

        def shared(session: Session) -> None:
            if outbox.mark_done(session, message_id=message.id, worker=self.worker, now=now):
                outbox.forget_payload(session, message_id=message.id)

        return Done("sent", settle=shared)

    def _view_update(self, message: ClaimedMessage, now: datetime) -> Done:
        p = message.payload
        try:
            self.sender.update_view(
                message.team_id, p["view_id"], notice_modal(p.get("title") or "", p["text"])
            )
        except DeliveryError as error:
            if error.outcome == "workspace":
                raise
            return self._discard("skipped", message)  # the modal was closed meanwhile
        return self._discard("sent", message)

    # ------------------------------------------------------------ what a person looks at

    def _home_refresh(self, message: ClaimedMessage, now: datetime) -> Done:
        """The person's App Home, built from the database as it is now. The row's key is
        freed first, so a change committed while this one is built plans its own
        refresh; the row is deleted once Slack has the view."""
        team, user_id = message.team_id, message.recipient
        self.db.call(outbox.release_key, message_id=message.id, worker=self.worker)
        try:
            user = user_from_info(user_id, self.sender.user_info(team, user_id))
        except DeliveryError as error:
            if error.outcome != "person":
                raise
            return self._discard("skipped", message)  # not someone Slack knows here
        view = self.db.call(
            home_page,
            content=self.content,
            team_id=team,
            user_id=user_id,
            now=now,
            slack_user=user,
            admins=frozenset({user_id}) if message.payload.get("listed") else frozenset(),
            coordinators=self.coordinators,
        )
        try:
            self.sender.publish_home(team, user_id, view)
        except DeliveryError as error:
            if error.outcome in ("retry", "workspace"):
                raise
            # Not theirs to pause for: a Home that cannot be shown is only skipped.
            return self._discard("skipped", message)
        return self._discard("sent", message)

    def _match_review(self, message: ClaimedMessage, now: datetime) -> Done:
        """The proposal in the modal ``/mentor match`` opened; a closed modal: skipped."""
        p = message.payload
        proposal = self.db.view(
            matching.get_proposal, team_id=message.team_id, proposal_id=p["proposal_id"]
        )
        view = match_review_modal(replace(proposal, pool_size=int(p.get("pool_size") or 0)))
        try:
            self.sender.update_view(message.team_id, p["view_id"], view.to_dict())
        except DeliveryError as error:
            if error.outcome == "workspace" or error.error not in GONE:
                raise
            return self._discard("skipped", message)
        return self._discard("sent", message)

    def _forgotten(self, message: ClaimedMessage, now: datetime) -> Done:
        """forget-me's answer as a DM; the row goes once sent: none may name them."""
        p = message.payload
        try:
            self.sender.post(message.team_id, message.recipient, text=p["text"], blocks=p["blocks"])
        except DeliveryError as error:
            if error.outcome in ("retry", "workspace"):
                raise
            return self._discard("skipped", message)  # never kept paused: it names them
        return self._discard("sent", message)

    # ------------------------------------------------------------ care before a pair fails

    def _update_or_post(self, message: ClaimedMessage, now: datetime) -> Done:
        """In place when the row names the message it answers, else a DM of its own."""
        p = message.payload
        if p.get("channel") and p.get("ts"):
            return self._update(message, now, p["channel"], p["ts"])
        return self._post(message, now)

    def _to_coordinator(self, message: ClaimedMessage, now: datetime) -> Done:
        """A private note for a coordinator: sent only once ``users.info`` says the
        listed person coordinates this workspace (a member of it), else dropped."""
        team, user_id = message.team_id, message.recipient
        try:
            user = user_from_info(user_id, self.sender.user_info(team, user_id))
        except DeliveryError as error:
            if error.outcome != "person":
                raise
            user = None
        if (
            user is None
            or user.is_bot
            or not is_coordinator(
                user_id,
                admins=frozenset({user_id}),
                slack_admin=user.is_admin,
                member=user.member_of(team),
            )
        ):
            return self._discard("skipped", message)
        return self._post(message, now)

    # ------------------------------------------------------------ calendars

    def _calendar_file(self, message: ClaimedMessage, now: datetime) -> Done:
        """One Slack call anyone sees (``files.completeUploadExternal``): the message with
        the links went as a row of its own, so a retry here repeats nothing else."""
        team = message.team_id
        pair_id = outgoing.group_pair_id(message.recipient)
        if pair_id is None:  # one person's DM (``calendar_file(to_user=)``)
            channel = self.sender.open_conversation(team, [message.recipient])
        else:
            channel = self.db.view(repo.pair_channel, team_id=team, pair_id=pair_id)
            if channel is None:
                return self._wait_for_group(message, pair_id, now)
        uploads = [
            calendar_file(self.content, event_of(self.content, team, entry), stamp=now)
            for entry in message.payload.get("events") or []
        ]
        if not uploads:
            return self._skip(message, "no meetings")
        files = self.sender.upload_files(
            team, channel, [(f.content, f.filename, f.title) for f in uploads]
        )

        def shared(session: Session) -> None:
            if not self._files_shared(session, message, now, channel, files):
                return
            for file_id in files:
                posted.keep(
                    session,
                    team_id=team,
                    kind=posted.CALENDAR_FILE,
                    channel_id=channel,
                    file_id=file_id,
                    now=now,
                )

        return Done("sent", settle=shared)


def _keep_export(
    session: Session,
    *,
    team: str,
    kind: str,
    channel: str,
    owner: str,
    names: list[str],
    now: datetime,
    ts: str | None = None,
    file_id: str | None = None,
) -> None:
    """A my-data export (its message or its file) in the ledger: for its owner, and for
    everyone it names, whose forget-me deletes it too."""
    for person, as_kind in ((owner, kind), *((named, posted.NAMES_THEM) for named in names)):
        posted.keep(
            session,
            team_id=team,
            kind=as_kind,
            channel_id=channel,
            ts=ts,
            file_id=file_id,
            user_id=person,
            now=now,
        )
