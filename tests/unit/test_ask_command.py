"""`/mentor ask`: the question as the person typed it, Slack's markup read back."""

from __future__ import annotations

from bot.domain.commands import Ask, parse_command, plain_text


def test_ask_keeps_the_question_and_a_leading_partner() -> None:
    assert parse_command("ask") == Ask(question="")
    assert parse_command("ASK  How do I  start?") == Ask(question="How do I  start?")
    # A mention is kept by ID, not by the handle Slack labels it with (forget-me
    # replaces an ID; a handle kept as words would outlive it).
    assert parse_command("ask <@U123|bob>\n what now?") == Ask(
        question="@U123\n what now?", partner="U123", rest="what now?"
    )
    assert parse_command("ask <@U123>") == Ask(question="@U123", partner="U123", rest="")


def test_slack_markup_is_stored_as_it_reads_never_live() -> None:
    assert plain_text("<!channel> and <!here|here>") == "@channel and @here"
    assert plain_text("<!subteam^S1|@team> <#C1|general>") == "@team #general"
    assert plain_text("<https://x.example|click> <https://y.example>") == (
        "click (https://x.example) https://y.example"
    )
    assert plain_text("<mailto:a@b.example|a@b.example>") == "a@b.example"
    assert plain_text("a &lt;b&gt; &amp;amp; c") == "a <b> &amp; c"


def test_a_mention_is_shown_as_slack_shows_one_and_a_forgotten_one_as_someone() -> None:
    from bot.domain.forgotten import new_tombstone
    from bot.views.common import escape_mrkdwn, typed_mentions

    def shown(typed: str) -> str:
        return typed_mentions(escape_mrkdwn(plain_text(typed)))

    assert shown("how is <@UBOBBY0002|bob> doing?") == "how is <@UBOBBY0002> doing?"
    assert shown(f"ask @{new_tombstone()} later") == "ask someone who left later"
    # Typed words that only look a little like an ID stay words, and markup stays text.
    assert shown("@URGENT and @W1 and a@U12345678") == "@URGENT and @W1 and a@U12345678"
    assert shown("<!here> <@U1234567X|x>") == "@here <@U1234567X>"

