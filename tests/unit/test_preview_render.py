"""The demo page's renderer: Slack mrkdwn and Block Kit dicts to static HTML."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.preview import (
    Column,
    TimelineItem,
    page,
    render_blocks,
    render_home,
    render_message,
    render_modal,
    render_mrkdwn,
)

USERS = {"U1": "Alice Smith", "U2": "Bob Jones"}
# 2026-03-03 09:00:00 UTC, a Tuesday.
TS = 1772528400


def md(text: str, tz: str = "UTC", **kwargs) -> str:
    return render_mrkdwn(text, users=USERS, reader_tz=tz, **kwargs)


def blocks(*bs: dict, tz: str = "UTC", **kwargs) -> str:
    return render_blocks(list(bs), users=USERS, reader_tz=tz, **kwargs)


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def option(text: str, value: str) -> dict:
    return {"text": plain(text), "value": value}


# --------------------------------------------------------------------------
# mrkdwn


def test_bold_italic_strike():
    out = md("*bold* _italic_ ~strike~")
    assert "<strong>bold</strong>" in out
    assert "<em>italic</em>" in out
    assert "<del>strike</del>" in out


def test_underscores_inside_words_are_not_italic():
    assert "<em>" not in md("snake_case_name and 2*3*4")
    assert "<strong>" not in md("2*3*4")


def test_inline_code_is_not_formatted():
    out = md("run `*not bold* <b>` now")
    assert '<code class="sk-code">*not bold* &lt;b&gt;</code>' in out
    assert "<strong>" not in out


def test_preformatted_block():
    out = md("before\n```line one\n*x* <tag>```\nafter")
    assert '<pre class="sk-pre">line one\n*x* &lt;tag&gt;</pre>' in out
    assert out.startswith("before")
    assert out.endswith("after")


def test_link_with_label():
    out = md("see <https://example.com/a?b=1&amp;c=2|the guide>")
    assert 'href="https://example.com/a?b=1&amp;c=2"' in out
    assert ">the guide</a>" in out


def test_bare_link():
    out = md("<https://example.com>")
    assert '<a class="sk-link" href="https://example.com"' in out
    assert ">https://example.com</a>" in out


def test_mailto_link():
    out = md("<mailto:team@example.com|Email us> or <mailto:x@example.com>")
    assert 'href="mailto:team@example.com"' in out
    assert ">Email us</a>" in out
    assert ">x@example.com</a>" in out


def test_unsafe_link_scheme_is_not_a_link():
    out = md("<javascript:alert(1)|click>")
    assert "href" not in out
    assert "click" in out


def test_mention_shows_display_name():
    out = md("hi <@U1>, meet <@U9|bob> and <@U8>")
    assert '<span class="sk-mention" data-user="U1">@Alice Smith</span>' in out
    assert "@bob</span>" in out
    assert "@U8</span>" in out


def test_channel_and_broadcasts():
    out = md("<#C123|general> <!here> <!channel>")
    assert "#general</span>" in out
    assert "@here</span>" in out
    assert "@channel</span>" in out


def test_date_token_follows_the_readers_zone():
    token = f"<!date^{TS}^{{date_short_pretty}} at {{time}}|Tue 03 Mar 2026 09:00 UTC>"
    london = md(token, "Europe/London")
    new_york = md(token, "America/New_York")
    tokyo = md(token, "Asia/Tokyo")
    assert "Mar 3, 2026 at 9:00 AM" in london
    assert "Mar 3, 2026 at 4:00 AM" in new_york
    assert "Mar 3, 2026 at 6:00 PM" in tokyo


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("{date_num}", "2026-03-03"),
        ("{date}", "March 3rd, 2026"),
        ("{date_short}", "Mar 3, 2026"),
        ("{date_long}", "Tuesday, March 3rd, 2026"),
        ("{date_pretty}", "March 3rd, 2026"),
        ("{date_short_pretty}", "Mar 3, 2026"),
        ("{date_long_pretty}", "Tuesday, March 3rd, 2026"),
        ("{time}", "9:00 AM"),
        ("{time_secs}", "9:00:00 AM"),
    ],
)
def test_date_tokens(fmt, expected):
    assert f">{expected}</time>" in md(f"<!date^{TS}^{fmt}|fallback>", "Europe/London")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 3, 23, 0, tzinfo=UTC), "today"),
        (datetime(2026, 3, 2, 12, 0, tzinfo=UTC), "tomorrow"),
        (datetime(2026, 3, 4, 12, 0, tzinfo=UTC), "yesterday"),
        (datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "Mar 3, 2026"),
    ],
)
def test_pretty_dates_relative_to_now(now, expected):
    out = md(f"<!date^{TS}^{{date_short_pretty}} at {{time}}|fb>", "Europe/London", now=now)
    assert f">{expected} at 9:00 AM</time>" in out


def test_pretty_date_uses_the_readers_day():
    # 09:00 UTC on the 3rd is already 3rd in Tokyo, but "now" 20:00 UTC on the 3rd
    # is the 4th in Tokyo, so the Tokyo reader sees "yesterday".
    now = datetime(2026, 3, 3, 20, 0, tzinfo=UTC)
    assert ">yesterday</time>" in md(f"<!date^{TS}^{{date_pretty}}|fb>", "Asia/Tokyo", now=now)
    assert ">today</time>" in md(f"<!date^{TS}^{{date_pretty}}|fb>", "Europe/London", now=now)


def test_unknown_date_token_shows_fallback():
    out = md(f"<!date^{TS}^{{bogus}}|the fallback>")
    assert out == "the fallback"


def test_line_breaks():
    assert md("one\ntwo") == "one<br>two"


def test_bulleted_and_numbered_lists():
    out = md("Steps:\n• first\n- second\n1. alpha\n2. *beta*\nafter")
    assert '<ul class="sk-list"><li>first</li><li>second</li></ul>' in out
    assert (
        '<ol class="sk-list"><li value="1">alpha</li><li value="2"><strong>beta</strong></li>'
        in out
    )
    assert out.startswith("Steps:<ul")
    assert out.endswith("</ol>after")


def test_blockquote():
    out = md("> quoted *line*\n&gt; second\nnormal")
    assert '<blockquote class="sk-quote">quoted <strong>line</strong><br>second</blockquote>' in out
    assert out.endswith("normal")


def test_emoji_shortcodes():
    out = md(":tada: :wave: :white_check_mark: :+1: :thumbsdown: :no_such_emoji:")
    assert "\U0001f389" in out
    assert "\U0001f44b" in out
    assert "\u2705" in out
    assert "\U0001f44d" in out
    assert "\U0001f44e" in out
    assert ":no_such_emoji:" in out


def test_script_is_escaped():
    out = md("<script>alert(1)</script> *x*")
    assert "<script" not in out
    assert "&lt;script&gt;" in out


def test_slack_entities_are_not_double_escaped():
    out = md("Q&amp;A &lt;3 &gt; and a raw & too")
    assert "Q&amp;A &lt;3 &gt; and a raw &amp; too" == out
    assert "&amp;amp;" not in out


def test_placeholder_characters_cannot_be_forged():
    out = md("\ue0000\ue001 <@U1>")
    assert out.count("@Alice Smith") == 1


# --------------------------------------------------------------------------
# Blocks


def test_section_with_mrkdwn_and_plain_text():
    out = blocks({"type": "section", "text": mrkdwn("*Hi* <@U1>")})
    assert '<div class="sk-block sk-section">' in out
    assert "<strong>Hi</strong>" in out
    assert "@Alice Smith" in out
    assert "<strong>" not in blocks({"type": "section", "text": plain("*Hi*")})


def test_section_fields_grid():
    out = blocks(
        {"type": "section", "fields": [mrkdwn("*Mentor*\n<@U1>"), mrkdwn("*Mentee*\n<@U2>")]}
    )
    assert '<div class="sk-fields">' in out
    assert out.count('<div class="sk-field">') == 2
    assert "@Bob Jones" in out


def test_section_button_accessory():
    out = blocks(
        {
            "type": "section",
            "text": mrkdwn("Ready?"),
            "accessory": {"type": "button", "text": plain("Go"), "action_id": "go"},
        }
    )
    assert '<div class="sk-accessory"><span class="sk-btn" role="button">Go</span></div>' in out


def test_section_overflow_accessory():
    out = blocks(
        {
            "type": "section",
            "text": mrkdwn("x"),
            "accessory": {
                "type": "overflow",
                "options": [option("Snooze", "s"), option("Leave", "l")],
            },
        }
    )
    assert "⋯" in out
    assert "<li>Snooze</li><li>Leave</li>" in out


def test_section_image_accessory():
    out = blocks(
        {
            "type": "section",
            "text": mrkdwn("x"),
            "accessory": {
                "type": "image",
                "image_url": "https://example.com/a.png",
                "alt_text": 'a "pic"',
            },
        }
    )
    assert 'src="https://example.com/a.png"' in out
    assert 'alt="a &quot;pic&quot;"' in out


def test_section_static_select_accessory():
    out = blocks(
        {
            "type": "section",
            "text": mrkdwn("Pick"),
            "accessory": {
                "type": "static_select",
                "placeholder": plain("Choose"),
                "options": [option("Weekly", "w"), option("Monthly", "m")],
                "initial_option": option("Monthly", "m"),
            },
        }
    )
    assert '<select class="sk-select" disabled>' in out
    assert '<option value="m" selected>Monthly</option>' in out
    assert "Choose" not in out


def test_button_styles():
    out = blocks(
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": plain("Accept"), "style": "primary"},
                {"type": "button", "text": plain("Decline"), "style": "danger"},
                {"type": "button", "text": plain("Later")},
                {"type": "button", "text": plain("Docs"), "url": "https://example.com/d"},
            ],
        }
    )
    assert '<div class="sk-block sk-actions">' in out
    assert '<span class="sk-btn sk-btn-primary" role="button">Accept</span>' in out
    assert '<span class="sk-btn sk-btn-danger" role="button">Decline</span>' in out
    assert '<span class="sk-btn" role="button">Later</span>' in out
    assert '<a class="sk-btn" href="https://example.com/d"' in out


def test_actions_select_and_overflow():
    out = blocks(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "static_select",
                    "placeholder": plain("Pick a slot"),
                    "options": [option("Morning", "am")],
                },
                {"type": "overflow", "options": [option("Report", "r")]},
            ],
        }
    )
    assert '<option value="" selected>Pick a slot</option>' in out
    assert '<option value="am">Morning</option>' in out
    assert "<li>Report</li>" in out


def test_actions_datepicker_and_timepicker():
    out = blocks(
        {
            "type": "actions",
            "elements": [
                {"type": "datepicker", "initial_date": "2026-03-03"},
                {"type": "timepicker", "initial_time": "14:30"},
                {"type": "datepicker", "placeholder": plain("When?")},
            ],
        }
    )
    assert "Mar 3, 2026" in out
    assert "2:30 PM" in out
    assert "When?" in out


def test_actions_datetimepicker_in_readers_zone():
    el = {"type": "datetimepicker", "initial_date_time": TS}
    london = blocks({"type": "actions", "elements": [el]}, tz="Europe/London")
    la = blocks({"type": "actions", "elements": [el]}, tz="America/Los_Angeles")
    assert "Mar 3, 2026" in london and "9:00 AM" in london
    assert "Mar 3, 2026" in la and "1:00 AM" in la


def test_context_block():
    out = blocks(
        {
            "type": "context",
            "elements": [
                mrkdwn("_Sent by_ <@U1>"),
                plain("plain *text*"),
                {"type": "image", "image_url": "https://example.com/i.png", "alt_text": "icon"},
            ],
        }
    )
    assert '<div class="sk-block sk-context">' in out
    assert "<em>Sent by</em>" in out
    assert "plain *text*" in out
    assert '<img class="sk-ctx-img" src="https://example.com/i.png" alt="icon"' in out


def test_divider_and_header():
    out = blocks({"type": "header", "text": plain("Welcome :wave:")}, {"type": "divider"})
    assert '<div class="sk-block sk-header">Welcome \U0001f44b</div>' in out
    assert '<hr class="sk-block sk-divider">' in out


def test_image_block():
    out = blocks(
        {
            "type": "image",
            "image_url": "https://example.com/big.png",
            "alt_text": "chart",
            "title": plain("Progress"),
        }
    )
    assert "Progress" in out
    assert 'src="https://example.com/big.png"' in out


def test_image_with_unsafe_url_has_no_src():
    out = blocks({"type": "image", "image_url": "javascript:alert(1)", "alt_text": "x"})
    assert "javascript" not in out
    assert "src=" not in out


def _input(element: dict, **kwargs) -> dict:
    return {
        "type": "input",
        "block_id": "b1",
        "label": plain("Label"),
        "element": element,
        **kwargs,
    }


def test_input_single_line_text():
    out = blocks(
        _input(
            {"type": "plain_text_input", "initial_value": 'say "hi" <b>'},
            hint=plain("Keep it short"),
            optional=True,
        )
    )
    assert '<label class="sk-label">Label <span class="sk-optional">(optional)</span>' in out
    assert 'type="text" disabled value="say &quot;hi&quot; &lt;b&gt;"' in out
    assert '<div class="sk-hint">Keep it short</div>' in out


def test_input_multiline_text_with_placeholder():
    out = blocks(
        _input({"type": "plain_text_input", "multiline": True, "placeholder": plain("Your goals")})
    )
    assert '<textarea class="sk-control sk-textarea" rows="4" disabled' in out
    assert 'placeholder="Your goals"' in out
    assert "(optional)" not in out


def test_input_datetimepicker_initial_and_empty():
    filled = blocks(_input({"type": "datetimepicker", "initial_date_time": TS}), tz="Asia/Kolkata")
    assert "Mar 3, 2026" in filled and "2:30 PM" in filled
    empty = blocks(_input({"type": "datetimepicker"}))
    assert "Select a date" in empty and "Select time" in empty
    assert "sk-placeholder" in empty


def test_input_static_select():
    out = blocks(_input({"type": "static_select", "options": [option("One", "1")]}))
    assert '<option value="" selected>Select an item</option><option value="1">One</option>' in out


def test_input_multi_static_select():
    out = blocks(
        _input(
            {
                "type": "multi_static_select",
                "options": [option("Go", "go"), option("Rust", "rs"), option("SQL", "sql")],
                "initial_options": [option("Go", "go"), option("SQL", "sql")],
            }
        )
    )
    assert out.count('<span class="sk-chip">') == 2
    assert "Go <span" in out and "SQL <span" in out
    empty = blocks(_input({"type": "multi_static_select", "placeholder": plain("Topics")}))
    assert "Topics" in empty


def test_input_checkboxes():
    out = blocks(
        _input(
            {
                "type": "checkboxes",
                "options": [
                    {**option("Email me", "e"), "description": mrkdwn("_weekly_")},
                    option("Text me", "t"),
                ],
                "initial_options": [option("Email me", "e")],
            }
        )
    )
    assert '<input type="checkbox" disabled checked>' in out
    assert '<input type="checkbox" disabled>' in out
    assert "<em>weekly</em>" in out


def test_input_radio_buttons():
    out = blocks(
        _input(
            {
                "type": "radio_buttons",
                "options": [option("Yes", "y"), option("No", "n")],
                "initial_option": option("No", "n"),
            }
        )
    )
    assert '<input type="radio" disabled><span class="sk-choice-text">Yes</span>' in out
    assert '<input type="radio" disabled checked><span class="sk-choice-text">No</span>' in out


def test_input_number():
    out = blocks(
        _input({"type": "number_input", "is_decimal_allowed": False, "initial_value": "3"})
    )
    assert 'type="number" disabled value="3"' in out


def test_rich_text_block():
    out = blocks(
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Hello "},
                        {"type": "user", "user_id": "U2"},
                        {"type": "text", "text": " <b>", "style": {"bold": True}},
                        {"type": "link", "url": "https://example.com", "text": "site"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "a"}]}
                    ],
                },
            ],
        }
    )
    assert "Hello " in out
    assert "@Bob Jones" in out
    assert "<strong> &lt;b&gt;</strong>" in out
    assert 'href="https://example.com"' in out and ">site</a>" in out
    assert '<ul class="sk-list"><li>a</li></ul>' in out


def test_unknown_block_and_element_never_crash():
    out = blocks(
        {"type": "video", "title": plain("x")},
        {"type": "actions", "elements": [{"type": "workflow_button"}]},
        "not a block",  # type: ignore[arg-type]
        {"type": "section", "text": 42, "fields": None, "accessory": "odd"},
        {"type": "input", "label": None, "element": None},
    )
    assert 'class="sk-unknown"' in out
    assert "<code>video</code>" in out
    assert "<code>workflow_button</code>" in out
    assert "<code>str</code>" in out


def test_block_text_is_escaped():
    out = blocks(
        {"type": "header", "text": plain("<script>alert(1)</script>")},
        {"type": "section", "text": mrkdwn("<img src=x onerror=alert(1)>")},
    )
    assert "<script" not in out
    assert "<img" not in out


# --------------------------------------------------------------------------
# Surfaces


def test_message_with_blocks():
    msg = {"ts": f"{TS}.000100", "text": "fallback", "blocks": [{"type": "divider"}]}
    out = render_message(msg, users=USERS, reader_tz="Europe/London")
    assert '<div class="sk-avatar" aria-hidden="true">MB</div>' in out
    assert '<span class="sk-sender">Mentor Bot</span>' in out
    assert '<span class="sk-badge">APP</span>' in out
    assert '<span class="sk-time">9:00 AM</span>' in out
    assert "sk-divider" in out
    assert "fallback" not in out
    assert "(edited)" not in out


def test_message_without_blocks_uses_text():
    msg = {"ts": str(TS), "text": "Hello <@U1> :tada:", "edited": {"ts": "1"}}
    out = render_message(msg, users=USERS, reader_tz="America/Chicago", sender_name="Coach Kim")
    assert "@Alice Smith" in out
    assert "\U0001f389" in out
    assert ">CK</div>" in out
    assert "3:00 AM" in out
    assert "(edited)" in out


def test_message_escapes_sender_and_text():
    out = render_message(
        {"text": "<script>x</script>"}, users={}, reader_tz="UTC", sender_name="<b>Bot</b>"
    )
    assert "<script" not in out and "<b>" not in out
    assert "sk-time" not in out


def test_modal_with_errors():
    view = {
        "type": "modal",
        "title": plain("Log a meeting"),
        "submit": plain("Save"),
        "close": plain("Not now"),
        "blocks": [
            _input({"type": "plain_text_input"}, block_id="notes"),
            _input({"type": "datepicker"}, block_id="when"),
        ],
    }
    out = render_modal(
        view, users=USERS, reader_tz="UTC", errors={"when": "Pick a date in the past <now>"}
    )
    assert '<span class="sk-modal-title-text">Log a meeting</span>' in out
    assert '<span class="sk-btn" role="button">Not now</span>' in out
    assert '<span class="sk-btn sk-btn-primary" role="button">Save</span>' in out
    assert '<div class="sk-error" role="alert">Pick a date in the past &lt;now&gt;</div>' in out
    assert out.count("sk-error") == 1
    # the error sits under the "when" input (the second one), not under "notes"
    assert out.index('type="text" disabled') < out.index("sk-has-error")
    assert out.index("sk-has-error") < out.index("Select a date") < out.index('sk-error"')


def test_modal_without_submit_has_close_only():
    out = render_modal({"title": plain("Info"), "blocks": []}, users={}, reader_tz="UTC")
    assert '<span class="sk-btn" role="button">Close</span>' in out
    assert "sk-btn-primary" not in out


def test_home_tab():
    view = {"type": "home", "blocks": [{"type": "header", "text": plain("Your mentoring")}]}
    out = render_home(view, users=USERS, reader_tz="UTC")
    assert '<span class="sk-tab sk-tab-active">Home</span>' in out
    assert "Your mentoring" in out


def test_page_has_one_column_per_person_in_order():
    alice = Column(
        "Alice Smith",
        "mentor · Europe/London",
        [
            TimelineItem("Tue 3 Mar, 10:00 · later", "dm", "<p>second</p>", 20.0),
            TimelineItem("Tue 3 Mar, 09:00 · DM from Mentor Bot", "dm", "<p>first</p>", 10.0),
            TimelineItem("Tue 3 Mar, 11:00", "ephemeral", "<p>psst</p>", 30.0),
            TimelineItem("Tue 3 Mar, 11:05", "action", "You pressed Accept", 31.0),
        ],
    )
    bob = Column("Bob <Jones>", "mentee", [TimelineItem("x", "modal", "<p>m</p>", 1.0)])
    carol = Column("Carol", "", [])
    html = page("Demo <run>", [alice, bob, carol], subtitle="3 people")
    assert html.startswith("<!DOCTYPE html>")
    assert "<style>" in html and "<script" not in html
    assert "<h1>Demo &lt;run&gt;</h1>" in html and "<p>3 people</p>" in html
    names = re.findall(r'<div class="sk-column-name">(.*?)</div>', html)
    assert names == ["Alice Smith", "Bob &lt;Jones&gt;", "Carol"]
    assert html.count('<section class="sk-column">') == 3
    assert html.index("<p>first</p>") < html.index("<p>second</p>")
    assert "Only visible to you" in html
    assert 'class="sk-item sk-kind-action"' in html
    assert "Tue 3 Mar, 09:00 · DM from Mentor Bot" in html
    assert "Nothing yet." in html
    for color in ("#611f69", "#007a5a", "#e01e5a", "#1d1c1d"):
        assert color in html
