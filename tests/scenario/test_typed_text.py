"""What people type reaches others as text, and Slack accepts every surface it lands on.

The emulator refuses Block Kit Slack refuses and records typed control sequences
(``<!here>``, ``<@U…>``, ``<https://…|…>``) that reach someone else live; the
``harness`` fixture fails any test that leaves such a violation behind.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.ids import Action, Block
from bot.store.models import Pair
from slackemu import Input
from slackemu.taint import live_tokens
from tests.conftest import COORDINATOR, MENTEE, MENTOR, STRANGER, Harness, all_text

EVIL = "<!here> <@UCAROL0003> <https://evil.example|Confirm your meeting> & co"
EVIL_SHOWN = (
    "&lt;!here&gt; &lt;@UCAROL0003&gt; &lt;https://evil.example|Confirm your meeting&gt; &amp; co"
)
EXTRA_MENTEE = "UERIN00007"
SNEAKY_BOT = "UEVIL00008"


def pair_up(h: Harness) -> str:
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    return h.slack.wait_for("conversations.open").response["channel"]["id"]


def open_prep(h: Harness) -> dict:
    group = pair_up(h)
    kickoff = h.slack.messages_in(group)[-1]
    h.click(MENTOR, kickoff, Action.OPEN_SCHEDULE)
    meeting = h.clock.now + timedelta(hours=30)
    h.submit(
        MENTOR,
        h.driver.last_view_opened(MENTOR),
        {
            block: {"value": Input.datetime(int((meeting + timedelta(days=7 * i)).timestamp()))}
            for i, block in enumerate(("meeting_1", "meeting_2", "meeting_3"))
        },
    )
    h.tick(meeting - timedelta(hours=24))
    prep = [m for m in h.slack.messages_in(MENTEE) if "Prepare for" in m.get("text", "")][-1]
    h.click(MENTEE, prep, Action.OPEN_PREP)
    return h.driver.last_view_opened(MENTEE)


def mrkdwn_texts(message: dict) -> list[str]:
    texts = [message["text"]]
    for block in message.get("blocks") or []:
        for obj in [block.get("text"), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                texts.append(obj["text"])
    return texts


def test_prep_reaches_the_mentor_as_text_not_as_pings_or_links(harness: Harness) -> None:
    h = harness
    view = open_prep(h)
    h.submit(
        MENTEE,
        view,
        {
            Block.FOCUS: {"value": Input.plain_text(EVIL)},
            Block.QUESTIONS: {"value": Input.plain_text(f"Is {EVIL}?")},
        },
    )
    shared = h.last_dm(MENTOR)
    shown = all_text(shared)
    assert EVIL_SHOWN in shown and f"Is {EVIL_SHOWN}?" in shown
    for text in mrkdwn_texts(shared):
        # The bot's own mention of the mentee stays; nothing the mentee typed is live.
        assert set(live_tokens(text)) <= {f"<@{MENTEE}>"}, text
    assert h.slack.mrkdwn_violations == []


def test_long_prep_is_cut_to_fit_slack_never_refused(harness: Harness) -> None:
    h = harness
    view = open_prep(h)
    # Every character escapes to a longer entity: 200 + 2000 typed become 9,000 shown.
    h.submit(
        MENTEE,
        view,
        {
            Block.FOCUS: {"value": Input.plain_text("&" * 200)},
            Block.QUESTIONS: {"value": Input.plain_text("<" * 2000)},
        },
    )
    shared = h.last_dm(MENTOR)
    section = shared["blocks"][0]["text"]["text"]
    assert 2900 < len(section) <= 3000
    assert "&amp;" * 200 in section, "the whole focus is shown"
    assert section.endswith("&lt;…"), "the questions are cut after a whole entity"
    assert not [c for c in h.slack.calls_to("chat.postMessage") if not c.response.get("ok")]


def test_a_display_name_never_reaches_anyone_live(harness: Harness) -> None:
    h = harness
    # A bot whose profile name is a ping and a disguised link: someone typed that name.
    h.slack.add_user(SNEAKY_BOT, name="sneaky", display_name=EVIL, is_bot=True)
    response = h.slash(MENTOR, f"start <@{SNEAKY_BOT}>")
    answer = h.slack.wait_for("response_url", after=response.mark)
    assert "is a bot" in answer.args["text"] and f"<@{SNEAKY_BOT}>" in answer.args["text"]
    assert h.slack.mrkdwn_violations == []


def join(h: Harness, user: str, role: str, topics: list[str], goals: str = "") -> None:
    h.slash(user, "join")
    h.submit(
        user,
        h.driver.last_view_opened(user),
        {
            Block.JOIN_ROLE: {"value": Input.radio(role)},
            Block.JOIN_TOPICS: {"value": Input.multi_static_select(topics)},
            Block.JOIN_GOALS: {"value": Input.plain_text(goals or None)},
            Block.JOIN_CAPACITY: {"value": Input.static_select("1")},
            Block.JOIN_START: {"value": Input.time("09:00")},
            Block.JOIN_END: {"value": Input.time("17:00")},
        },
    )


MANY_TOPICS = [
    "leadership",
    "career-growth",
    "public-speaking",
    "feedback",
    "networking",
    "first-job",
]


def test_match_review_with_long_reasons_fits_slack_and_asks_no_names(harness: Harness) -> None:
    h = harness
    h.slack.add_user(EXTRA_MENTEE, name="erin", real_name="Erin Mentee", tz="Europe/Berlin")
    join(h, MENTOR, "mentor", MANY_TOPICS)
    join(h, MENTEE, "mentee", MANY_TOPICS, goals="Leadership, networking and public speaking")
    join(h, STRANGER, "mentor", ["writing"])
    join(h, EXTRA_MENTEE, "mentee", ["writing"])

    mark = h.slack.mark()
    h.slash(COORDINATOR, "match")
    review = h.driver.last_view_opened(COORDINATOR)
    assert review["callback_id"] == "match_review_modal", h.slack.calls[mark:]
    # One users.info confirms the coordinator is a member of this workspace; the
    # names in the modal come from mentions, never a users.info per person.
    asked = [c.args["user"] for c in h.slack.calls[mark:] if c.method == "users.info"]
    assert asked == [COORDINATOR], "names come from mentions, not a users.info per person"

    options = [
        option
        for block in review["blocks"]
        if block["type"] == "input"
        for option in block["element"]["options"]
    ]
    assert len(options) == 2
    labels = {option["text"]["text"] for option in options}
    assert any(f"<@{MENTOR}> → <@{MENTEE}>" in label for label in labels), labels
    assert all(option["text"]["type"] == "mrkdwn" for option in options)
    assert all(len(option["description"]["text"]) <= 75 for option in options)
    # The long reasons are cut in the option and shown in full beneath the pairs.
    shown = all_text(review)
    assert "Giving and receiving feedback" in shown and "Starting out in a first role" in shown

    h.submit(COORDINATOR, review, {})  # every pair stays ticked
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Pair)) == 2
