"""An invitation left unanswered expires after INVITATION_LASTS: an Accept months later
would start a pairing its inviter has long given up on, and until it expires neither
of the two may invite the other."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.domain.invitations import INVITATION_LASTS
from bot.ids import Action
from bot.store.models import Pair
from tests.conftest import MENTEE, MENTOR, Harness, all_text
from tests.scenario.test_pairing import invite, pair_count


def statuses(h: Harness) -> list[str]:
    with h.db.session() as s:
        return list(s.scalars(select(Pair.status).order_by(Pair.id)))


def test_an_unanswered_invitation_expires_and_both_are_told_once(harness: Harness) -> None:
    h = harness
    invitation = invite(h)
    asked = h.clock.now
    # Both see until when it stands, each in their own time zone.
    lapse = f"<!date^{int((asked + INVITATION_LASTS).timestamp())}^{{date_long}}|"
    sent = all_text(h.driver.slash(MENTOR, "status").json)
    assert "waiting for them to answer by " + lapse in sent
    assert "Answer it in our DM by " + lapse in all_text(h.driver.slash(MENTEE, "status").json)
    # A day short of the limit, a pass changes nothing.
    h.tick(asked + INVITATION_LASTS - timedelta(days=1))
    assert statuses(h) == ["invited"]
    before = len(h.slack.messages_in(MENTOR))

    h.tick(asked + INVITATION_LASTS + timedelta(minutes=1))
    assert statuses(h) == ["expired"]
    # The invitation DM is closed in place: no buttons, what happened, what to do.
    closed = h.slack.calls_to("chat.update")[-1]
    assert closed.args["ts"] == invitation["ts"]
    shown = h.slack.messages_in(MENTEE)[-1]
    text = all_text(shown)
    assert f"This invitation from <@{MENTOR}> expired unanswered" in text
    assert "add `as mentee`" in text  # they were to be the mentee
    assert not [b for b in shown["blocks"] if b["type"] == "actions"]
    # The inviter hears it once.
    told = h.slack.messages_in(MENTOR)[before:]
    assert len(told) == 1
    assert f"Your mentoring invitation to <@{MENTEE}>" in all_text(told[0])
    assert "expired without an answer" in all_text(told[0])
    h.tick(asked + INVITATION_LASTS + timedelta(hours=2))  # later passes: nothing again
    assert len(h.slack.messages_in(MENTOR)) == before + 1

    # Accept on the old copy changes nothing and says why.
    mark = h.slack.mark()
    h.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    refusal = h.slack.wait_for("response_url", after=mark)
    assert "This invitation expired unanswered" in refusal.args["text"]
    assert statuses(h) == ["expired"]
    assert not h.slack.calls_to("conversations.open")

    # Either may now ask afresh, no cooldown as after a "no".
    h.slash(MENTEE, f"start <@{MENTOR}> as mentee")
    assert statuses(h) == ["expired", "invited"]
    fresh = h.last_dm(MENTOR)
    h.click(MENTOR, fresh, Action.ACCEPT_INVITE)
    assert statuses(h) == ["expired", "active"]
    with h.db.session() as s:
        pair = s.scalars(select(Pair).where(Pair.status == "active")).one()
        assert (pair.mentor_id, pair.mentee_id) == (MENTOR, MENTEE)


def test_accept_after_the_limit_is_refused_before_any_pass(harness: Harness) -> None:
    """The care pass runs each quarter hour; a press in between is judged by the age
    itself, not by whether the pass has come round."""
    h = harness
    invitation = invite(h)
    h.clock.advance(days=INVITATION_LASTS.days, seconds=1)
    mark = h.slack.mark()
    h.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    refusal = h.slack.wait_for("response_url", after=mark)
    assert f"This invitation from <@{MENTOR}> expired unanswered" in refusal.args["text"]
    assert statuses(h) == ["invited"]  # changed nothing: the pass closes it
    assert not h.slack.calls_to("conversations.open")


def test_accept_a_moment_before_the_limit_pairs(harness: Harness) -> None:
    h = harness
    invitation = invite(h)
    h.clock.advance(days=INVITATION_LASTS.days, seconds=-1)
    h.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    assert statuses(h) == ["active"]


def test_inviting_again_replaces_an_invitation_past_its_limit(harness: Harness) -> None:
    """Before: `start` said an invitation was waiting, though Accept on it was refused.
    Inviting again closes the old one in place and sends the new; the inviter, who is
    acting, is not also told that the old one expired."""
    h = harness
    old = invite(h)
    h.clock.advance(days=INVITATION_LASTS.days, minutes=1)
    before = len(h.slack.messages_in(MENTOR))
    response = h.slash(MENTOR, f"start <@{MENTEE}>")
    assert response.body == b""  # accepted: the confirmation follows on the response_url
    assert statuses(h) == ["expired", "invited"]
    assert pair_count(h) == 2
    updated = h.slack.calls_to("chat.update")[-1]
    assert updated.args["ts"] == old["ts"]
    assert "expired unanswered" in all_text(updated.args)
    assert "invited you" in h.last_dm(MENTEE)["text"]
    assert len(h.slack.messages_in(MENTOR)) == before  # no "your invitation expired"


def test_the_invitee_inviting_back_tells_the_first_inviter(harness: Harness) -> None:
    h = harness
    invite(h)
    h.clock.advance(days=INVITATION_LASTS.days + 1)
    h.slash(MENTEE, f"start <@{MENTOR}> as mentee")
    assert statuses(h) == ["expired", "invited"]
    texts = [all_text(m) for m in h.slack.messages_in(MENTOR)]
    assert sum("expired without an answer" in t for t in texts) == 1
    assert sum(f"<@{MENTEE}> invited you" in t for t in texts) == 1


def test_a_lapsed_invitation_is_not_shown_as_waiting_before_the_pass(harness: Harness) -> None:
    """Between its 30th day and the care pass (each quarter hour), status and Home listed
    it with a past "by" date, and `end` pointed the invitee at buttons that refuse."""
    h = harness
    invite(h)
    h.clock.advance(days=INVITATION_LASTS.days, minutes=1)
    for user in (MENTOR, MENTEE):
        shown = all_text(h.driver.slash(user, "status").json)
        assert "Invitation" not in shown, shown
    answer = h.driver.slash(MENTEE, f"end <@{MENTOR}>").json["text"]
    assert "press Accept or Decline" not in answer
    # The inviter withdrawing it is told it lapsed (not "not in an active pair"), and
    # nothing changes: the care pass closes it as expired.
    for command in (f"end <@{MENTEE}>", "end"):  # named, or their only invitation
        answer = h.driver.slash(MENTOR, command).json["text"]
        assert f"Your mentoring invitation to <@{MENTEE}>" in answer and "expired" in answer
    assert statuses(h) == ["invited"]
