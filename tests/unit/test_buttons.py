"""Button values: each is built where a view makes the button and read back by one parser."""

from __future__ import annotations

import pytest

from bot import buttons
from bot.domain.errors import UserError


def test_every_value_a_view_builds_is_read_back_by_its_parser() -> None:
    assert buttons.parse_pair(buttons.pair_value(42)) == 42
    assert buttons.parse_meeting(buttons.meeting_value(7)) == 7
    assert buttons.parse_tip(buttons.tip_value(9001)) == 9001
    for verb in buttons.MEETING_VERBS:
        value = buttons.MeetingChoice(verb, 12).value
        assert buttons.parse_meeting_choice(value) == buttons.MeetingChoice(verb, 12)
    poll = buttons.poll_ref(3, 5)
    assert buttons.parse_poll(poll.ref) == buttons.PollRef(3, 5, "")
    assert buttons.parse_poll(poll.with_choice("yes")) == buttons.PollRef(3, 5, "yes")
    closing = buttons.poll_ref(3, None)
    assert closing.ref == "3:0" and buttons.parse_poll(closing.with_choice(4)).meeting_id is None
    for turn_on in (True, False):
        assert buttons.parse_tips_toggle(buttons.tips_toggle_value(turn_on=turn_on)) is turn_on
    lines = [buttons.proposal_line_value(i) for i in (0, 3)]
    assert buttons.parse_proposal_lines([*lines, "x", None, "9" * 11]) == {0, 3}


@pytest.mark.parametrize(
    ("parse", "value"),
    [
        (buttons.parse_pair, "1; DROP TABLE pairs"),
        (buttons.parse_pair, "²"),
        (buttons.parse_pair, str(buttons.MAX_ID + 1)),
        (buttons.parse_meeting_choice, "delete:1"),
        (buttons.parse_meeting_choice, "move:"),
        (buttons.parse_poll, "1"),
        (buttons.parse_poll, "1:2:3:4"),
        (buttons.parse_poll, "a:b"),
        (buttons.parse_tips_toggle, "sometimes"),
        (buttons.parse_tip, None),
    ],
)
def test_what_is_not_one_of_ours_is_refused(parse: object, value: object) -> None:
    with pytest.raises(UserError):
        parse(value)  # type: ignore[operator]
