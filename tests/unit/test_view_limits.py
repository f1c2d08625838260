"""The builders whose output depends on what people type or how big the pool is stay
within what Slack accepts (checked with the emulator's validator) and escape typed text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import load_content
from bot.services.matching import ProposalView, ProposedLine
from bot.views.coaching import end_confirmation, prep_shared
from bot.views.common import as_dicts, clip, escape_mrkdwn
from bot.views.pool import match_review_modal
from bot.views.privacy import forget_confirmation_blocks
from slackemu import validate_message_blocks, validate_view
from slackemu.limits import MAX_BLOCKS_TEXT, blocks_text_length, view_too_large
from slackemu.taint import live_tokens

WHEN = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
LONG_REASONS = (
    "Shared topics: Building a network, Career growth, Giving and receiving feedback, "
    "Leadership, Public speaking, Starting out in a first role",
    "Goals mention: leadership, networking, public speaking",
    "No overlap in working hours",
)


@pytest.fixture(scope="module")
def content():
    return load_content()


@pytest.mark.parametrize(
    ("typed", "limit", "shown"),
    [
        ("<!here> & <@U1>", None, "&lt;!here&gt; &amp; &lt;@U1&gt;"),
        ("plain words", None, "plain words"),
        ("a" * 10, 5, "aaaa…"),
        ("&&&", 8, "&amp;…"),  # never "&amp;&am…"
        ("<<", 5, "&lt;…"),
        ("x<", 5, "x&lt;"),  # fits exactly
    ],
)
def test_escape_mrkdwn(typed: str, limit: int | None, shown: str) -> None:
    assert escape_mrkdwn(typed, limit) == shown
    assert limit is None or len(escape_mrkdwn(typed, limit)) <= limit
    assert live_tokens(escape_mrkdwn(typed, limit)) == []


def proposal(pairs: int, reasons: tuple[str, ...] = LONG_REASONS) -> ProposalView:
    return ProposalView(
        id=7,
        pairs=tuple(
            ProposedLine(i, f"UMENTOR{i:05d}", f"UMENTEE{i:05d}", 0.5, reasons)
            for i in range(pairs)
        ),
        unmatched=tuple(f"ULONELY{i:05d}" for i in range(40)),
        total_score=pairs * 0.5,
        method="optimal",
        pool_size=2 * pairs + 40,
    )


@pytest.mark.parametrize("pairs", [0, 1, 10, 11, 95, 500])
def test_match_review_fits_slack_whatever_the_pool(pairs: int) -> None:
    view = match_review_modal(proposal(pairs)).to_dict()
    assert validate_view(view) == []
    # Slack refuses a view over 250 kB (view_too_large); each option is sent twice.
    assert not view_too_large(view), len(json.dumps(view))
    options = [o for b in view["blocks"] if b["type"] == "input" for o in b["element"]["options"]]
    assert all(len(o["description"]["text"]) <= 75 for o in options)
    assert all(o["text"] == {"type": "mrkdwn", "text": o["text"]["text"]} for o in options)
    if pairs:
        assert options[0]["text"]["text"] == "<@UMENTOR00000> → <@UMENTEE00000> · fit 0.50"
        # Cut reasons are shown in full under their group.
        context = view["blocks"][3]
        assert context["type"] == "context"
        assert "Starting out in a first role" in context["elements"][0]["text"]
    shown = json.loads(view["private_metadata"])["shown"]
    assert shown == len(options)  # what approving may invite, or tell "no match"
    unmatched = view["blocks"][1]["elements"][0]["text"] if pairs else ""
    assert not pairs or unmatched.endswith("<@ULONELY00029> and 10 more")
    if pairs == 500:
        assert shown < 500
        note = view["blocks"][-1]["elements"][0]["text"]
        assert f"{500 - shown} more pairs than fit here" in note
        assert "nobody in them is told anything" in note


def test_match_review_keeps_short_reasons_whole_in_the_option() -> None:
    reasons = (
        "Shared topics: Leadership",
        "Goals mention: leadership",
        "4h overlap in working hours",
    )
    view = match_review_modal(proposal(3, reasons)).to_dict()
    options = view["blocks"][2]["element"]["options"]
    assert options[0]["description"]["text"] == (
        "Shared topics: Leadership · Goals: leadership · 4h overlap in hours"
    )
    assert [b["type"] for b in view["blocks"]] == ["section", "context", "input"]


def test_prep_shared_escapes_and_fits(content) -> None:
    typed = "<!here> <https://evil.example|Confirm> & co"
    message = prep_shared(content, mentee_id="UBOB", focus=typed, questions=typed, starts_at=WHEN)
    blocks = as_dicts(message.blocks)
    assert validate_message_blocks(blocks) == []
    text = blocks[0]["text"]["text"]
    assert set(live_tokens(text)) == {"<@UBOB>"}
    assert text.count("&lt;!here&gt; &lt;https://evil.example|Confirm&gt; &amp; co") == 2
    huge = prep_shared(
        content, mentee_id="UBOB", focus="<" * 500, questions=">" * 2000, starts_at=WHEN
    )
    blocks = as_dicts(huge.blocks)
    assert validate_message_blocks(blocks) == []
    text = blocks[0]["text"]["text"]
    assert len(text) > 2900 and text.count("&lt;") >= 500 // 2


def test_confirmation_dialogs_are_plain_text(content) -> None:
    for blocks in (
        end_confirmation(content, pair_id=1, partner_id="UBOB"),
        forget_confirmation_blocks(),
    ):
        dicts = as_dicts(blocks)
        assert validate_message_blocks(dicts) == []
        dialogs = [el["confirm"] for b in dicts for el in b.get("elements", []) if "confirm" in el]
        assert dialogs and all(d["text"]["type"] == "plain_text" for d in dialogs)


@given(
    st.lists(
        st.sampled_from(["word ", "&amp;", "&lt;", "<@U0123ABCD>", "<!date^1700000000^{date}|x>"]),
        max_size=60,
    ),
    st.integers(min_value=2, max_value=200),
)
def test_clip_fits_and_never_cuts_a_token_or_an_escape(pieces: list[str], limit: int) -> None:
    text = "".join(pieces)
    clipped = clip(text, limit)
    assert len(clipped) <= limit
    if clipped == text:
        return
    kept = clipped[:-1]
    assert clipped.endswith("…")
    # What is kept is whole pieces up to where the cut fell inside a word at most.
    assert kept.count("<") == kept.count(">")
    assert kept.count("&") == kept.count(";")
    assert text.startswith(kept)


def test_clip_keeps_a_plain_ampersand_and_what_follows_it() -> None:
    # A coordinator's "Q&A" early in a long text is a plain "&", not an escape cut in
    # half: the text is cut at the limit, not back to the "&".
    text = "Join our Q&A hour. " + "x" * 3100
    clipped = clip(text, 3000)
    assert len(clipped) == 3000 and clipped.startswith("Join our Q&A hour. xxx")


def _overview(invited: int, active: int, meetings: int):
    from datetime import timedelta

    from bot.services.overview import MeetingLine, Overview, PairLine

    lines = [
        PairLine(n, "mentor", f"UINV{n:06d}", "invited", n % 2 == 0, None) for n in range(invited)
    ]
    lines += [
        PairLine(
            invited + n,
            "mentee",
            f"UACT{n:06d}",
            "active",
            False,
            f"G{n:08d}",
            tuple(
                MeetingLine(1000 * n + m, WHEN + timedelta(days=7 * m), 45, m + 1)
                for m in range(meetings)
            ),
        )
        for n in range(active)
    ]
    return Overview("UME0000001", tuple(lines), True, 9 * 60, "Europe/Berlin")


@given(invited=st.integers(0, 150), active=st.integers(0, 150), meetings=st.integers(0, 3))
def test_status_and_home_take_any_number_of_pairs(invited: int, active: int, meetings: int):
    """Someone with dozens of open invitations still gets a status Slack accepts (50
    blocks), and an App Home (100) whose tips and pool controls are all there; pairs
    that do not fit are counted, never silently dropped."""
    import re

    from bot.views.home import home_view
    from bot.views.pairing import status_blocks

    overview = _overview(invited, active, meetings)
    status = as_dicts(status_blocks(overview))
    assert validate_message_blocks(status) == []
    assert blocks_text_length(status) <= MAX_BLOCKS_TEXT
    status_text = str(status)
    # One summary per pair, each naming its partner first (a hint may name them again).
    summary = r"(?:pair with|Invitation sent\* to|Invitation from\*) <@U(?:INV|ACT)\d{6}>"
    shown = len(re.findall(summary, status_text))
    more = re.search(r"…and (\d+) more", status_text)
    assert shown + (int(more.group(1)) if more else 0) == invited + active

    home = home_view(overview).to_dict()
    assert validate_view(home) == []
    actions = {
        element.get("action_id")
        for block in home["blocks"]
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]
    }
    assert {"home_tips_toggle", "join_open"} <= actions
    home_text = str(home["blocks"])
    shown = len(re.findall(summary, home_text))
    more = re.search(r"…and (\d+) more", home_text)
    assert shown + (int(more.group(1)) if more else 0) == invited + active


@given(at_risk=st.integers(0, 40), max_blocks=st.integers(12, 60))
def test_insights_cut_their_pairs_at_risk_with_a_count(at_risk: int, max_blocks: int):
    """Coordinators' insights fit the room App Home leaves them; the pairs at risk that
    do not fit are counted, never silently dropped."""
    import re

    from bot.services.insights import AtRiskPair, ProgramReport
    from bot.views.insights import insights_blocks

    report = ProgramReport(
        team_id="T1",
        generated_at=WHEN,
        viewer="UME0000001",
        minimum_people=4,
        active_pairs=at_risk,
        ended_pairs=0,
        open_invitations=0,
        meetings_ahead=0,
        at_risk=tuple(
            AtRiskPair(n, f"UMEN{n:06d}", f"UMEE{n:06d}", ("no first meeting yet",))
            for n in range(at_risk)
        ),
        weeks=(),
    )
    blocks = as_dicts(insights_blocks(report, nudge_action_id="nudge", max_blocks=max_blocks))
    assert len(blocks) <= max_blocks
    listed = sum(1 for b in blocks if str(b.get("block_id", "")).startswith("insights_risk:"))
    more = re.search(r"…and (\d+) more", str(blocks))
    assert listed + (int(more.group(1)) if more else 0) == at_risk
