"""Every action, view and block ID, used where a button is built and where it is handled."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    ACCEPT_INVITE = "invite_accept"
    DECLINE_INVITE = "invite_decline"
    OPEN_SCHEDULE = "schedule_open"
    MOVE_MEETING = "meeting_move"
    CANCEL_MEETING = "meeting_cancel"
    OPEN_PREP = "prep_open"
    FEEDBACK_HAPPENED = "feedback_happened"
    FEEDBACK_USEFULNESS = "feedback_usefulness"
    OPEN_FEEDBACK_DETAILS = "feedback_details_open"
    TIP_UP = "tip_up"
    TIP_DOWN = "tip_down"
    END_CONFIRM = "end_confirm"
    END_CANCEL = "end_cancel"
    HOME_STATUS = "home_status"
    HOME_HELP = "home_help"
    HOME_TIPS_TOGGLE = "home_tips_toggle"


class View(StrEnum):
    SCHEDULE = "schedule_modal"
    MOVE_MEETING = "move_meeting_modal"
    PREP = "prep_modal"
    FEEDBACK_DETAILS = "feedback_details_modal"


class Block(StrEnum):
    MEETING_1 = "meeting_1"
    MEETING_2 = "meeting_2"
    MEETING_3 = "meeting_3"
    LENGTH = "meeting_length"
    MEETING_TIME = "meeting_time"
    FOCUS = "prep_focus"
    QUESTIONS = "prep_questions"
    HELPED = "feedback_helped"
    CHANGE = "feedback_change"


MEETING_BLOCKS = (Block.MEETING_1, Block.MEETING_2, Block.MEETING_3)

# Inputs carry one element each; naming the element after its block keeps lookups simple.
INPUT_ACTION = "value"
