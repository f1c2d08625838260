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
    OPEN_GOALS = "goals_open"
    GOAL_PROGRESS = "goal_progress"  # + ":<progress>", one per button of a goal's row
    CHECKIN_SCORE = "checkin_score"  # + ":<1..5>"
    CHECKIN_NOT_WORKING = "checkin_not_working"
    EXIT_CHOICE = "exit_choice"  # + ":<rematch|end|stay>"
    REJOIN_POOL = "pool_rejoin"
    CALENDAR_LINK = "calendar_link"  # + ":google" / ":outlook": link buttons, ack only


class View(StrEnum):
    SCHEDULE = "schedule_modal"
    MOVE_MEETING = "move_meeting_modal"
    PREP = "prep_modal"
    FEEDBACK_DETAILS = "feedback_details_modal"
    JOIN = "join_modal"
    MATCH_REVIEW = "match_review_modal"
    GOALS = "goals_modal"


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
    GOAL_1_WHAT = "goal_1_what"
    GOAL_1_WHY = "goal_1_why"
    GOAL_1_BY = "goal_1_by"
    GOAL_2_WHAT = "goal_2_what"
    GOAL_2_WHY = "goal_2_why"
    GOAL_2_BY = "goal_2_by"
    GOAL_3_WHAT = "goal_3_what"
    GOAL_3_WHY = "goal_3_why"
    GOAL_3_BY = "goal_3_by"
    AGREE_CADENCE = "agree_cadence"
    AGREE_CONTACT = "agree_contact"
    AGREE_CONFIDENTIAL = "agree_confidential"


MEETING_BLOCKS = (Block.MEETING_1, Block.MEETING_2, Block.MEETING_3)
# The "Set our goals" form: (what, why, by when) per goal, in order.
GOAL_BLOCKS = (
    (Block.GOAL_1_WHAT, Block.GOAL_1_WHY, Block.GOAL_1_BY),
    (Block.GOAL_2_WHAT, Block.GOAL_2_WHY, Block.GOAL_2_BY),
    (Block.GOAL_3_WHAT, Block.GOAL_3_WHY, Block.GOAL_3_BY),
)

# Inputs carry one element each; naming the element after its block keeps lookups simple.
INPUT_ACTION = "value"

# The match review lists proposed pairs in checkbox groups of at most ten (Slack's limit).
MATCH_GROUP_PREFIX = "match_group_"
