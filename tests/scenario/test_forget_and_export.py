"""Privacy against a curious coordinator: forget-me forgets (in the database and in
Slack), and my-data is complete and holds nothing of anyone else's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

import bot.views.privacy
from bot.ids import Action, Block
from bot.services.privacy import personal_data
from bot.store import checkins
from bot.store.models import Base, Pair, ScheduledMessage
from slackemu import Input
from tests.conftest import COORDINATOR, MENTEE, MENTOR, STRANGER, Harness, all_text
from tests.scenario.test_coaching import pair_up, schedule
from tests.scenario.test_program import join

# What the mentee (who asks to be forgotten) typed, and what their mentor typed.
MENTEE_WORDS = (
    "mentee-goal-words",
    "mentee-focus-words",
    "mentee-question-words",
    "mentee-helped-words",
    "mentee-change-words",
)
MENTOR_WORDS = ("mentor-helped-words", "mentor-change-words")


def _answer_poll(h: Harness, user: str, helped: str, change: str) -> None:
    poll = [
        m
        for m in h.slack.messages_in(user)
        if m.get("text") == "How did your mentoring meeting go?"
    ][-1]
    h.click(user, poll, f"{Action.FEEDBACK_HAPPENED}:yes")
    h.click(user, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_USEFULNESS}:4")
    h.click(user, h.slack.message(poll["ts"]), Action.OPEN_FEEDBACK_DETAILS)
    view = h.driver.last_view_opened(user)
    h.submit(
        user,
        view,
        {
            Block.HELPED: {"value": Input.plain_text(helped)},
            Block.CHANGE: {"value": Input.plain_text(change)},
        },
    )


def _program(h: Harness) -> dict[str, Any]:
    """A pair that met once: the mentee joined the pool, shared prep notes, answered the
    poll, voted on a tip; the mentor answered too; a coordinator set an exclusion."""
    group = pair_up(h)
    join(h, MENTEE, "mentee", ["leadership"], goals="mentee-goal-words")
    meeting = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)  # Wednesday
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    h.tick(meeting - timedelta(hours=24))
    prep = [m for m in h.slack.messages_in(MENTEE) if "Prepare for" in m.get("text", "")][-1]
    h.click(MENTEE, prep, Action.OPEN_PREP)
    h.submit(
        MENTEE,
        h.driver.last_view_opened(MENTEE),
        {
            Block.FOCUS: {"value": Input.plain_text("mentee-focus-words")},
            Block.QUESTIONS: {"value": Input.plain_text("mentee-question-words")},
        },
    )
    assert "mentee-focus-words" in all_text(h.last_dm(MENTOR))  # the shared copy
    h.tick(meeting + timedelta(minutes=45 + 60))
    _answer_poll(h, MENTEE, "mentee-helped-words", "mentee-change-words")
    _answer_poll(h, MENTOR, "mentor-helped-words", "mentor-change-words")
    # Thursday 09:00 in Kolkata: the mentee's tip, and a vote on it.
    h.tick(datetime(2026, 3, 5, 3, 30, tzinfo=UTC))
    tip = h.last_dm(MENTEE)
    assert "mentoring tip" in tip["text"]
    h.click(MENTEE, tip, Action.TIP_UP)
    h.slash(COORDINATOR, f"exclude <@{MENTEE}|bob> <@{STRANGER}|dave>")
    return {"group": group, "mentee_dm": h.slack.dm_channel(MENTEE)}


# The coaching tables (migration 0007): goals and agreement the mentee typed for the
# pair, a question they parked, and their 30-day check-in answer.
COACHING_WORDS = ("mentee-goalwhat-words", "mentee-contact-words", "mentee-parked-words")


def _coaching(h: Harness, group: str) -> None:
    from tests.scenario.test_goals import goal_values, kickoff, open_goals

    view = open_goals(h, MENTEE, kickoff(h, group))
    values = {
        **goal_values("mentee-goalwhat-words", "", h.clock.now.date() + timedelta(days=60)),
        Block.AGREE_CADENCE: {"value": Input.static_select("weekly")},
        Block.AGREE_CONTACT: {"value": Input.plain_text("mentee-contact-words")},
    }
    assert h.submit(MENTEE, view, values).status == 200
    h.slash(MENTEE, "ask mentee-parked-words")
    h.slash(MENTOR, "ask mentor-parked-words")
    with h.db.session() as session:
        pair = session.scalars(select(Pair)).one()
        checkins.record_score(
            session,
            team_id=pair.team_id,
            pair_id=pair.id,
            user_id=MENTEE,
            score=2,
            now=h.clock.now,
        )
    assert _rows_with(h, (MENTEE,))


def _my_data(h: Harness) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The export DM and, when there is one, the file's JSON."""
    h.slash(MENTEE, "my-data")
    message = [m for m in h.slack.messages_in(MENTEE) if "stores about you" in m["text"]][-1]
    shared = [m for m in h.slack.messages_in(MENTEE) if m.get("files")]
    record = None
    if shared:
        record = json.loads(h.slack.file_content(shared[-1]["files"][0]["id"]) or b"null")
    return message, record


def _rows_with(h: Harness, needles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every column of every table that holds a needle."""
    found = []
    with h.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    text = json.dumps(value, default=str) if value is not None else ""
                    for needle in needles:
                        if needle.lower() in text.lower():
                            found.append((table.name, column, needle))
    return found


def _messages_with(h: Harness, channels: list[str], needles: tuple[str, ...]) -> list[str]:
    found = []
    for channel in channels:
        for message in h.slack.messages_in(channel):
            text = json.dumps(message)
            found += [
                f"{channel} {message['ts']}: {n}" for n in needles if n.lower() in text.lower()
            ]
    return found


def _forget_me(h: Harness, user: str) -> None:
    """`/mentor forget-me`, confirmed in their DM, and what it planned sent."""
    confirm = h.driver.slash(user, "forget-me")
    h.driver.click(
        user,
        {"ts": "0", "blocks": confirm.json["blocks"]},
        Action.FORGET_CONFIRM,
        channel=h.slack.dm_channel(user),
    )
    h.app.drain()


def test_my_data_is_complete_and_holds_nothing_of_anyone_elses(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    _program(h)
    h.slash(MENTEE, "pause 2w")
    message, record = _my_data(h)
    assert record is None  # short enough for the message itself
    shown = all_text(message)
    for words in MENTEE_WORDS:
        assert words in shown, words
    for words in MENTOR_WORDS:
        assert words not in shown, words

    # A long record comes whole as a file in the bot's DM, not cut at 50 blocks.
    monkeypatch.setattr(bot.views.privacy, "MAX_INLINE_CHUNKS", 0)
    message, record = _my_data(h)
    assert record is not None and "comes as a file" in all_text(message)
    assert h.slack.calls_to("files.completeUploadExternal")[-1].args["channel_id"] == (
        h.slack.dm_channel(MENTEE)
    )
    dumped = json.dumps(record)
    for words in MENTEE_WORDS:
        assert words in dumped, words
    for words in MENTOR_WORDS:
        assert words not in dumped, words
    assert record["person"]["paused_until"] and record["pool"]["goals"] == "mentee-goal-words"
    assert record["person"]["tz"] == "Asia/Kolkata"
    assert record["tip_votes"][0]["vote"] == 1 and record["tips_received"]
    assert record["match_exclusions"][0]["never_matched_with"] == STRANGER
    assert [f["usefulness"] for f in record["feedback"]] == [4]
    assert {c["kind"] for c in record["messages_kept_for_deletion"]} >= {"my_data"}
    assert record["pairs"][0]["partner_id"] == MENTOR


def test_forget_me_leaves_no_trace_in_the_database_or_in_slack(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    ids = _program(h)
    mentee_dm, group = ids["mentee_dm"], ids["group"]
    _coaching(h, group)
    _my_data(h)
    # The partner's own export names them too (their pair): message and file go with them.
    with monkeypatch.context() as patched:
        patched.setattr(bot.views.privacy, "MAX_INLINE_CHUNKS", 0)
        h.slash(MENTOR, "my-data")
    mentor_export = h.slack.messages_in(MENTOR)
    assert any(MENTEE in json.dumps(m) for m in mentor_export)
    assert any(m.get("files") for m in mentor_export)
    # Their own export does not show when the partner asked for theirs.
    with h.db.session() as session:
        record = personal_data(session, team_id=h.slack.team_id, user_id=MENTEE)
    own = {c["kind"] for c in record["messages_kept_for_deletion"]}
    assert "my_data" in own and own <= {"my_data", "my_data_file"}, own
    needles = (
        MENTEE,
        "BOBBY0002",
        "Bob Mentee",
        "Kolkata",
        mentee_dm,
        group,
        *MENTEE_WORDS,
        *COACHING_WORDS,
    )
    for words in COACHING_WORDS:  # the new tables hold them before
        assert _rows_with(h, (words,)), words
    assert len(_rows_with(h, needles)) > 10
    channels = [mentee_dm, h.slack.dm_channel(MENTOR), h.slack.dm_channel(COORDINATOR), group]
    assert _messages_with(h, channels, (MENTEE, *MENTEE_WORDS))

    confirm = h.driver.slash(MENTEE, "forget-me")
    shared_before = len(h.slack.calls_to("files.completeUploadExternal"))
    # Slack is down for the first deletions: the database is forgotten all the same.
    h.slack.inject("chat.delete", error="internal_error", times=1_000)
    h.driver.click(
        MENTEE,
        {"ts": "0", "blocks": confirm.json["blocks"]},
        Action.FORGET_CONFIRM,
        channel=mentee_dm,
    )
    assert not h.slack.calls_to("chat.delete")  # nothing in Slack before the ack
    h.app.drain()  # the sender tries them at once
    pending = _pending_deletions(h)
    assert len(pending) >= 8
    # Only the deletion rows name a channel of theirs; none names them or their words.
    leaks = [(t, c, n) for t, c, n in _rows_with(h, needles) if t != "scheduled_messages"]
    assert leaks == []

    report = h.tick(h.clock.now + timedelta(minutes=1))
    assert report.outcomes["retry"] >= 1
    assert _rows_with(h, (MENTEE, "Bob Mentee", "Kolkata", *MENTEE_WORDS)) == []
    h.slack.clear_faults()
    h.tick(h.clock.now + timedelta(hours=2))
    assert _pending_deletions(h) == []

    # Nothing left anywhere: every column of every table, and every message in Slack.
    assert _rows_with(h, needles) == []
    assert [m["text"] for m in h.slack.messages_in(mentee_dm)] == []
    assert _messages_with(h, channels, (MENTEE, "Bob Mentee", *MENTEE_WORDS)) == []
    assert all(  # (after it: the partner's cancellations, which name no one)
        h.slack.file_content(c.response["files"][0]["id"]) is None
        for c in h.slack.calls_to("files.completeUploadExternal")[:shared_before]
    )
    # The partner is told the pairing ended, in words that name no one.
    told = [m["text"] for m in h.slack.messages_in(h.slack.dm_channel(MENTOR))]
    assert any("your partner left the program" in text for text in told)
    # Every message of the bot's in the pair's group DM goes (the meeting times too);
    # the mentor's own feedback stays in the database.
    assert [m["text"] for m in h.slack.messages_in(group)] == []
    assert _rows_with(h, ("mentor-helped-words",))
    assert _rows_with(h, ("mentor-parked-words",))  # the partner's question stays
    assert _messages_with(h, channels, COACHING_WORDS) == []


def _pending_deletions(h: Harness) -> list[ScheduledMessage]:
    with h.db.session() as session:
        return list(
            session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "slack_delete"))
        )


def test_slack_deletions_settle_whatever_slack_answers(db: Any, content: Any) -> None:
    """Deleted: the row goes. Nothing to delete (already gone): the row goes. Failing:
    retried with backoff, and after the last attempt the row goes too (it names a
    channel of someone forgotten). A dead token: held with the workspace."""
    from bot.scheduling.engine import MAX_ATTEMPTS, Engine
    from bot.scheduling.sender import SlackSender
    from bot.store import outbox
    from bot.store.outbox import PlannedMessage
    from slackemu import TEAM_ID, SlackEmulator

    now = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    with SlackEmulator() as slack:
        slack.add_user(MENTEE, name="bob")
        engine = Engine(
            db,
            SlackSender(api_url=slack.base_url, token_for_team=lambda _team: "xoxb-test"),
            content,
            worker="w1",
            concurrency=1,
        )
        posted = [engine.sender.post(TEAM_ID, MENTEE, text=f"m{i}", blocks=[]) for i in range(3)]

        def plan_deletion(key: str, payload: dict[str, str]) -> None:
            row = PlannedMessage(
                team_id=TEAM_ID,
                key=key,
                kind="slack_delete",
                recipient=payload.get("channel", "files"),
                due_at=now,
                payload=payload,
            )
            db.call(outbox.plan, [row], now=now)

        plan_deletion("d0", {"channel": posted[0].channel, "ts": posted[0].ts})
        plan_deletion("d-gone", {"channel": posted[0].channel, "ts": "1.000001"})
        plan_deletion("d-file", {"file": "F404", "channel": posted[0].channel})
        report = engine.run_pass(now)
        assert report.outcomes == {"deleted": 3}
        assert [m["text"] for m in slack.messages_in(MENTEE)] == ["m1", "m2"]

        plan_deletion("d1", {"channel": posted[1].channel, "ts": posted[1].ts})
        slack.inject("chat.delete", error="internal_error", times=MAX_ATTEMPTS)
        when = now
        for _ in range(MAX_ATTEMPTS):
            when += timedelta(hours=2)
            report = engine.run_pass(when)
        assert report.outcomes == {"failed": 1}
        assert _pending_deletions_in(db) == []

        plan_deletion("d2", {"channel": posted[2].channel, "ts": posted[2].ts})
        slack.inject("chat.delete", error="invalid_auth")
        assert engine.run_pass(when).outcomes == {"held": 1}
        assert [m.status for m in _pending_deletions_in(db)] == ["held"]


def _pending_deletions_in(db: Any) -> list[ScheduledMessage]:
    with db.session() as session:
        return list(
            session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "slack_delete"))
        )


def test_forget_me_publishes_again_every_home_that_showed_them(harness: Harness) -> None:
    """Slack keeps a published Home until it is published again: the partner's, the
    coordinator's and their own showed the forgotten person's ID and the pair's goals
    until each one opened Home again (and Slack shows the old view first meanwhile)."""
    h = harness
    ids = _program(h)
    _coaching(h, ids["group"])
    homes = (MENTOR, MENTEE, COORDINATOR)
    for user in homes:
        h.driver.app_home_opened(user)
    h.app.drain()
    needles = (MENTEE, "Bob Mentee", "Kolkata", *MENTEE_WORDS, *COACHING_WORDS)
    shown = {user: json.dumps(h.slack.home_view(user)) for user in homes}
    assert MENTEE in shown[MENTOR] and any(word in shown[MENTOR] for word in COACHING_WORDS)

    _forget_me(h, MENTEE)
    for user in (MENTOR, COORDINATOR):
        shown_now = json.dumps(h.slack.home_view(user))
        assert [n for n in needles if n in shown_now] == [], user
    # Their own Home is theirs alone (Slack tells it their zone): nothing of the pair.
    own = json.dumps(h.slack.home_view(MENTEE))
    assert [n for n in (MENTOR, *MENTEE_WORDS, *COACHING_WORDS) if n in own] == []
    assert _rows_with(h, needles) == []  # the refreshes named them only until sent


@pytest.mark.parametrize("words", ["stores about you", "mentoring tip"])
def test_a_message_on_its_way_when_forget_me_commits_goes_from_slack_too(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, words: str
) -> None:
    """forget-me deletes a row being sent like any other; the message Slack takes a
    moment later was recorded nowhere, so nothing deleted it: the my-data export (a
    settle of its own) or a tip (the plain path) stayed in their DM for good."""
    from bot.scheduling.sender import SlackSender
    from bot.services import privacy

    h = harness
    _program(h)
    real_post = SlackSender.post
    forgotten: list[str] = []

    def post(self: SlackSender, team: str, channel: str, **kwargs: Any) -> Any:
        sent = real_post(self, team, channel, **kwargs)
        if words in kwargs["text"] and channel == MENTEE and not forgotten:
            # Slack has it; forget-me commits before the row is marked sent.
            h.db.call(
                privacy.forget_person, team_id=h.slack.team_id, user_id=MENTEE, now=h.clock.now
            )
            forgotten.append(sent.ts)
        return sent

    monkeypatch.setattr(SlackSender, "post", post)
    if words == "stores about you":
        h.slash(MENTEE, "my-data")
    else:
        for _ in range(3):  # the next working mornings, in their zone
            h.tick(h.clock.now + timedelta(days=1))
    assert forgotten
    h.tick(h.clock.now + timedelta(minutes=1))
    left = h.slack.messages_in(h.slack.dm_channel(MENTEE))

    assert [m for m in left if m["ts"] in forgotten] == []
    assert _rows_with(h, (MENTEE, "Kolkata")) == []


def test_forget_me_takes_the_meetings_out_of_the_partners_calendar(harness: Harness) -> None:
    """The pair's two meetings ahead were cancelled, and their cancellation .ics went to
    the group DM, which goes with the forgotten person: the partner's calendar kept
    them, and the notice said nothing of them. The cancellations come to their DM."""
    h = harness
    _program(h)  # one meeting held, two ahead
    mentor_dm = h.slack.dm_channel(MENTOR)
    shared_before = len(h.slack.calls_to("files.completeUploadExternal"))
    _forget_me(h, MENTEE)
    told = [m["text"] for m in h.slack.messages_in(mentor_dm) if "left the program" in m["text"]]
    assert len(told) == 1 and "calendar files I'm sending you" in told[0]
    shares = h.slack.calls_to("files.completeUploadExternal")[shared_before:]
    [share] = [c for c in shares if c.args.get("channel_id") == mentor_dm]
    files = [h.slack.file_content(f["id"]) for f in share.response["files"]]
    assert len(files) == 2
    for ics in files:
        assert ics is not None and b"METHOD:CANCEL" in ics and b"STATUS:CANCELLED" in ics
        assert MENTEE.encode() not in ics and b"Bob" not in ics
    assert _rows_with(h, (MENTEE, "Bob Mentee", "Kolkata", *MENTEE_WORDS)) == []


def test_a_file_on_its_way_when_forget_me_commits_goes_from_slack_too(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row that shares files (the my-data export too long for a message) is settled
    by its own path: forget-me committing while Slack took the file left it in their
    DM for good."""
    from bot.scheduling.sender import SlackSender
    from bot.services import privacy

    h = harness
    _program(h)
    monkeypatch.setattr(bot.views.privacy, "MAX_INLINE_CHUNKS", 0)  # the export as a file
    real_upload = SlackSender.upload
    uploaded: list[str] = []

    def upload(self: SlackSender, team: str, channel: str, **kwargs: Any) -> list[str]:
        files = real_upload(self, team, channel, **kwargs)
        if not uploaded:  # Slack has it; forget-me commits before the row is settled
            h.db.call(
                privacy.forget_person, team_id=h.slack.team_id, user_id=MENTEE, now=h.clock.now
            )
            uploaded.extend(files)
        return files

    monkeypatch.setattr(SlackSender, "upload", upload)
    h.slash(MENTEE, "my-data")
    h.tick(h.clock.now + timedelta(minutes=1))
    assert uploaded
    assert [f for f in uploaded if h.slack.file_content(f) is not None] == []
    assert _rows_with(h, (MENTEE, "Kolkata")) == []


def test_forget_me_leaves_no_row_naming_them_when_slack_refuses_their_home(
    harness: Harness,
) -> None:
    """forget-me's refresh of their own Home names them only until it is sent; with
    views.publish failing for hours it was failed, and kept, naming them."""
    h = harness
    _program(h)
    h.slack.inject("views.publish", status=500, times=10_000)
    _forget_me(h, MENTEE)
    for _ in range(12):
        h.tick(h.clock.now + timedelta(minutes=30))
    assert _rows_with(h, (MENTEE,)) == []
