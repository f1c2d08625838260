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
    NUDGE_PAIR = "nudge_pair"
    FORGET_CONFIRM = "forget_confirm"
    FORGET_CANCEL = "forget_cancel"
    OPEN_JOIN = "join_open"
    SEND_CHART = "insights_chart"


class View(StrEnum):
    SCHEDULE = "schedule_modal"
    MOVE_MEETING = "move_meeting_modal"
    PREP = "prep_modal"
    FEEDBACK_DETAILS = "feedback_details_modal"
    JOIN = "join_modal"
    MATCH_REVIEW = "match_review_modal"


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
    JOIN_ROLE = "join_role"
    JOIN_TOPICS = "join_topics"
    JOIN_GOALS = "join_goals"
    JOIN_CAPACITY = "join_capacity"
    JOIN_START = "join_work_start"
    JOIN_END = "join_work_end"


MEETING_BLOCKS = (Block.MEETING_1, Block.MEETING_2, Block.MEETING_3)

# Inputs carry one element each; naming the element after its block keeps lookups simple.
INPUT_ACTION = "value"

# The match review lists proposed pairs in checkbox groups of at most ten (Slack's limit).
MATCH_GROUP_PREFIX = "match_group_"
