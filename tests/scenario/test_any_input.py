"""Every request answered, whatever it holds (property-based, with Hypothesis).

Slash commands with any text, and interactive payloads with mutated values,
are sent to the real app through the strict driver (no Slack call before the
ack). For each: HTTP 200 within Slack's 3 s, an answer the person can read (the
response, a response_url post, the modal, Home, or a DM), never the "something
went wrong" of a crash, and for someone outside the pair nothing changed in the
database except their own rows.

Words Slack and Bolt themselves use are in the mix on purpose: Bolt's body
parser (slack_bolt/request/internals.py ``parse_body``) took any form body
containing "payload" for an interactive one and lost the slash command (404).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain.commands import SUBCOMMANDS
from bot.ids import Action
from bot.listeners.common import SORRY
from bot.store.models import Base, Meeting, Pair
from slackemu.driver import iter_elements
from tests.conftest import COORDINATOR, MENTEE, MENTOR, STRANGER, Harness, all_text
from tests.scenario.test_coaching import schedule

SLACK_LIMIT = 3.0  # seconds Slack waits for the HTTP answer
FUZZ = settings(
    max_examples=50,
    deadline=None,
    database=None,
    # The harness (emulator + app) is built once per test and shared by its examples:
    # each example checks its own effects against a snapshot taken just before it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Field names of Slack's payloads and Bolt's parsing, as words a person might type.
SLACK_WORDS = [
    "payload",
    "payload=",
    "payload={}",
    "&payload=%7B%7D",
    "command",
    "command=/mentor",
    "text",
    "text=",
    "user_id",
    "user_id=U0BOT",
    "team_id",
    "token",
    "token=x",
    "ssl_check",
    "ssl_check=1",
    "type",
    "type=block_actions",
    "response_url",
    "response_urls",
    "trigger_id",
    "channel_id",
    "api_app_id",
    "challenge",
    "url_verification",
    "event_callback",
    "view_submission",
    "is_enterprise_install",
    "enterprise_id",
    "actions",
    "view",
    "envelope_id",
    "{",
    "}",
    '{"type":"url_verification","challenge":"x"}',
]
MENTOR_WORDS = [
    *SUBCOMMANDS,
    "as",
    "mentor",
    "mentee",
    "on",
    "off",
    "at",
    "08:30",
    "25:99",
    "2w",
    "10d",
    "99d",
    "0d",
    f"<@{MENTOR}|alice>",
    f"<@{MENTEE}>",
    f"<@{STRANGER}|dave>",
    "<@U0BOT>",
    "<@UNOBODY999>",
    "<!here>",
    "<!channel>",
    "@alice",
    "²",
    "٣",
    "0",
    "9" * 40,
    "\u200b",
    "🙂",
    "&",
    "=",
    "%",
    "+",
    "%26",
    "\\",
    '"',
    "\n",
]
word = st.one_of(st.sampled_from(SLACK_WORDS + MENTOR_WORDS), st.text(max_size=12))
command_text = st.one_of(
    st.lists(word, max_size=6).map(" ".join),
    st.text(max_size=200),
    st.text(min_size=2000, max_size=4000),
)


def snapshot(h: Harness) -> set[str]:
    """Every row of every table, as text."""
    rows: set[str] = set()
    with h.db.session() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in {"processed_events", "people", "workspaces", "installations"}:
                continue  # bookkeeping and Slack's profile cache, not anyone's data
            for row in s.execute(select(table)):
                rows.add(f"{table.name}{tuple(row)!r}")
    return rows


def own_rows(h: Harness, user: str) -> Callable[[str], bool]:
    """Whether a row belongs to ``user`` (theirs to change): it names them, their DM,
    or a pair / meeting of theirs."""
    with h.db.session() as s:
        pairs = {
            p.id
            for p in s.scalars(select(Pair))
            if user in (p.mentor_id, p.mentee_id, p.inviter_id)
        }
        meetings = {m.id for m in s.scalars(select(Meeting)) if m.pair_id in pairs}
    marks = [user, h.slack.dm_channel(user)]

    def theirs(row: str) -> bool:
        if any(mark in row for mark in marks):
            return True
        return any(f"pair_id={i}," in row for i in pairs) or any(
            f"meeting_id={i}," in row for i in meetings
        )

    return theirs


def assert_only_own_rows_changed(h: Harness, user: str, before: set[str]) -> None:
    after = snapshot(h)
    theirs = own_rows(h, user)
    changed = [row for row in before ^ after if not theirs(row)]
    assert not changed, f"{user} changed rows that are not theirs: {changed[:5]}"


def answers_since(h: Harness, mark: int, user: str) -> list[str]:
    """What ``user`` was shown after ``mark``: response_url posts, views opened,
    updated or published for them, ephemerals and DMs to them."""
    dm = h.slack.dm_channel(user)
    shown = []
    for call in h.slack.calls[mark:]:
        args = call.args
        if call.method == "response_url":
            shown.append(all_text(args) or "(message removed)")
        elif call.method in {"views.open", "views.update", "views.push"} and call.response.get(
            "ok"
        ):
            shown.append(all_text(args.get("view")))
        elif call.method == "views.publish" and args.get("user_id") == user:
            shown.append(all_text(args.get("view")))
        elif call.method == "chat.postEphemeral" and args.get("user") == user:
            shown.append(all_text(args))
        elif call.method == "chat.postMessage" and args.get("channel") in {user, dm}:
            shown.append(all_text(args))
    return shown


def timed(send: Callable[[], Any]) -> Any:
    started = time.monotonic()
    response = send()
    elapsed = time.monotonic() - started
    assert response.status == 200, (response.status, response.text[:300])
    assert elapsed < SLACK_LIMIT, f"answered in {elapsed:.2f}s"
    assert "Traceback" not in response.text
    return response


# ------------------------------------------------------------------- slash commands


@FUZZ
@given(text=command_text, user=st.sampled_from([STRANGER, MENTOR]))
@example(text="payload", user=STRANGER)
@example(text="what is a payload", user=MENTOR)
@example(text="start <@UALICE0001|alice> payload", user=STRANGER)
@example(text="ssl_check=1&command=x", user=STRANGER)
@example(text="pause ²d", user=STRANGER)
@example(text="tips at ²³:00", user=STRANGER)
def test_any_slash_command_text_is_answered(harness: Harness, text: str, user: str) -> None:
    h = harness
    before = snapshot(h)
    mark = h.slack.mark()
    response = timed(lambda: h.driver.slash(user, text))
    h.app.drain()
    shown = answers_since(h, mark, user)
    if response.body:
        shown.append(all_text(response.json) if response.json else response.text)
    assert shown, f"/mentor {text!r}: no answer"
    assert not any(SORRY in s for s in shown), f"/mentor {text!r} crashed: {shown}"
    if user == STRANGER:
        assert_only_own_rows_changed(h, STRANGER, before)


# -------------------------------------------------------------- interactive payloads


@dataclass
class Surface:
    """Somewhere a button can be pressed: a message, a Home tab or a modal."""

    name: str
    kind: str  # "message" | "view"
    content: dict
    channel: str | None = None
    elements: list[tuple[str, dict]] = field(default_factory=list)


def surfaces(h: Harness) -> list[Surface]:
    """A pair with meetings, prompts, Homes and modals: every button and form the app
    shows, as they were when shown (some are stale by the time they are pressed)."""
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    invitation = copy.deepcopy(h.last_dm(MENTEE))
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    group = h.slack.wait_for("conversations.open").response["channel"]["id"]
    kickoff = copy.deepcopy(h.slack.messages_in(group)[-1])
    first = h.clock.now + timedelta(hours=25)
    schedule(h, group, [first, first + timedelta(days=7), first + timedelta(days=14)])
    confirmation = copy.deepcopy(h.slack.messages_in(group)[-1])
    h.tick(h.clock.now + timedelta(hours=2))  # the prep prompts are due
    prep_prompt = copy.deepcopy(h.last_dm(MENTEE))
    found = [
        Surface("invitation", "message", invitation),
        Surface("kickoff", "message", kickoff),
        Surface("meetings", "message", confirmation),
        Surface("prep prompt", "message", prep_prompt),
    ]
    ending = h.driver.slash(MENTOR, "end")
    found.append(
        Surface(
            "end confirmation",
            "message",
            {"ts": "0", "blocks": ending.json["blocks"]},
            channel=h.slack.dm_channel(MENTOR),
        )
    )
    for person in (MENTEE, COORDINATOR, STRANGER):
        h.driver.app_home_opened(person)
        h.app.drain()
        home = h.slack.home_view(person)
        assert home is not None, f"no Home published for {person}"
        found.append(Surface(f"home of {person}", "view", copy.deepcopy(home)))
    def modal(name: str, user: str) -> Surface:
        return Surface(name, "view", copy.deepcopy(h.driver.last_view_opened(user)))

    h.slash(MENTOR, "schedule")
    found.append(modal("schedule modal", MENTOR))
    h.click(MENTEE, prep_prompt, Action.OPEN_PREP)
    found.append(modal("prep modal", MENTEE))
    h.slash(STRANGER, "join")
    found.append(modal("join modal", STRANGER))
    for surface in found:
        blocks = surface.content.get("blocks") or []
        surface.elements = [
            (str(block.get("block_id") or ""), el)
            for block, el in iter_elements(blocks)
            if el.get("action_id") and block.get("type") != "input"
        ]
    return found


ids = st.one_of(
    st.integers(min_value=-3, max_value=12).map(str),
    st.integers(min_value=2**31 - 2, max_value=2**70).map(str),
)
odd_values = st.one_of(
    ids,
    st.sampled_from(["", " ", "²", "٣", "1²", "-1", "0", "on", "off", "yes", "no", "null"]),
    st.builds(
        "{}:{}".format, st.sampled_from(["cancel", "move", "again", "x", ""]), ids | st.just("²")
    ),
    st.builds("{}:{}:{}".format, ids, ids, st.sampled_from(["yes", "no", "rescheduled", "5", "²"])),
    st.text(max_size=30),
    st.text(min_size=2500, max_size=3000),
)
actors = st.sampled_from([STRANGER, STRANGER, STRANGER, MENTOR, MENTEE, COORDINATOR])


def with_option(element: dict, value: str) -> None:
    """Make ``value`` one of the element's options, as if the app had offered it."""
    if element.get("type") in {"overflow", "static_select", "radio_buttons"}:
        element["options"] = [{"text": {"type": "plain_text", "text": "x"}, "value": value}]
        element.pop("option_groups", None)
        element.pop("initial_option", None)


def world(h: Harness) -> list[Surface]:
    """The surfaces, built once per test (its examples share the harness)."""
    if not hasattr(h, "fuzz_surfaces"):
        h.fuzz_surfaces = None  # type: ignore[attr-defined]  # a failed setup is not retried
        h.fuzz_surfaces = surfaces(h)  # type: ignore[attr-defined]
    assert h.fuzz_surfaces is not None, "setting up the surfaces failed (see the first example)"
    return h.fuzz_surfaces


@FUZZ
@given(data=st.data())
def test_any_button_value_is_answered_and_changes_nothing_foreign(
    harness: Harness, data: st.DataObject
) -> None:
    h = harness
    buttons = [(s, i) for s in world(h) for i in range(len(s.elements))]
    surface, index = data.draw(st.sampled_from(buttons), label="button")
    user = data.draw(actors, label="user")
    block_id, element = surface.elements[index]
    value = data.draw(st.one_of(st.just(element.get("value")), odd_values), label="value")
    new_block_id = data.draw(
        st.one_of(st.just(block_id), st.text(max_size=20), st.just("x" * 300)), label="block_id"
    )
    content = copy.deepcopy(surface.content)
    if surface.kind == "view":
        content["id"] = data.draw(
            st.one_of(st.just(content.get("id")), st.sampled_from(["V999999", "", "²"])),
            label="view_id",
        )
    press(h, surface, content, element["action_id"], block_id, new_block_id, value, user)


def press(
    h: Harness,
    surface: Surface,
    content: dict,
    action_id: str,
    block_id: str,
    new_block_id: str,
    value: Any,
    user: str,
) -> None:
    for block, el in iter_elements(content.get("blocks") or []):
        if el.get("action_id") == action_id and str(block.get("block_id") or "") == block_id:
            block["block_id"] = new_block_id or block_id
            if value is not None:
                with_option(el, value)
            break
    before = snapshot(h)
    mark = h.slack.mark()
    bid = new_block_id or block_id
    if surface.kind == "message":
        response = timed(
            lambda: h.driver.click(
                user, content, action_id, value=value, channel=surface.channel, block_id=bid
            )
        )
    else:
        response = timed(
            lambda: h.driver.click_in_view(user, content, action_id, value=value, block_id=bid)
        )
    h.app.drain()
    assert not response.body or response.json is not None
    shown = answers_since(h, mark, user)
    assert not any(SORRY in s for s in shown), f"{surface.name}/{action_id}={value!r}: {shown}"
    if user == STRANGER:
        assert shown, f"{surface.name}/{action_id}={value!r}: the stranger got no answer"
        assert_only_own_rows_changed(h, STRANGER, before)


# --------------------------------------------------------------------- modal forms

texts = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["²", "٣٠", "45", "9" * 30, "<!here>", "<@UALICE0001>", "payload"]),
    st.text(min_size=3000, max_size=3500),
)
instants = st.one_of(
    st.none(),
    st.integers(min_value=-(2**40), max_value=2**63),
    st.sampled_from(["²", "", "soon", 1_773_000_000, 1_900_000_000]),
)


def state_entry(data: st.DataObject, element: dict) -> Any:
    kind = element.get("type")
    if kind == "datetimepicker":
        return {"type": kind, "selected_date_time": data.draw(instants, label="when")}
    if kind == "timepicker":
        hhmm = st.one_of(st.none(), st.sampled_from(["08:30", "25:99", "²:00", "7", ""]))
        return {"type": kind, "selected_time": data.draw(hhmm, label="time")}
    if kind in {"static_select", "radio_buttons"}:
        value = data.draw(odd_values, label="option")
        with_option(element, value)
        return {"type": kind, "selected_option": {"value": value}}
    if kind in {"checkboxes", "multi_static_select"}:
        chosen = data.draw(st.lists(odd_values, max_size=3, unique=True), label="options")
        element["options"] = [
            {"text": {"type": "plain_text", "text": "x"}, "value": v} for v in chosen
        ] or element.get("options", [])
        element.pop("initial_options", None)
        return {"type": kind, "selected_options": [{"value": v} for v in chosen]}
    if kind == "users_select":
        return {"type": kind, "selected_user": data.draw(actors, label="someone")}
    return {"type": kind or "plain_text_input", "value": data.draw(texts, label="text")}


metadata = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.builds(
        lambda key, value: json.dumps({key: value}),
        st.sampled_from(["pair_id", "meeting_id", "proposal_id", "ref", "channel", "ts"]),
        st.one_of(st.integers(min_value=-1, max_value=2**64), st.text(max_size=10), st.none()),
    ),
    st.just("[" * 3000),
)


@FUZZ
@given(data=st.data())
def test_any_modal_submission_is_answered_and_changes_nothing_foreign(
    harness: Harness, data: st.DataObject
) -> None:
    h = harness
    modals = [s for s in world(h) if s.kind == "view" and s.content.get("type") == "modal"]
    surface = data.draw(st.sampled_from(modals), label="modal")
    user = data.draw(actors, label="user")
    view = copy.deepcopy(surface.content)
    view["private_metadata"] = data.draw(
        st.one_of(st.just(view.get("private_metadata")), metadata), label="private_metadata"
    )
    values: dict[str, dict[str, Any]] = {}
    for i, block in enumerate(view.get("blocks") or []):
        element = block.get("element") if block.get("type") == "input" else None
        if isinstance(element, dict) and data.draw(st.booleans(), label="fill"):
            bid = block.get("block_id") or f"emu{i}"
            values.setdefault(bid, {})[element.get("action_id") or "emu_action"] = state_entry(
                data, element
            )
    before = snapshot(h)
    mark = h.slack.mark()
    response = timed(lambda: h.driver.submit_view(user, view, values))
    h.app.drain()
    shown = answers_since(h, mark, user)
    if response.body:
        assert response.json is not None, response.text[:200]
        assert response.json.get("response_action") in {"errors", "update", "push", "clear"}
        shown.append(all_text(response.json))
    assert not any(SORRY in s for s in shown), f"{surface.name}: {shown}"
    if user == STRANGER:
        assert shown, f"{surface.name}: the stranger got no answer"
        assert_only_own_rows_changed(h, STRANGER, before)
