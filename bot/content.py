"""Coaching content and program settings from ``content/*.yml`` (SPEC §6).

Program coordinators edit these files by hand, so every problem is reported as
``file:line: problem``, all of them at once, and a bad folder never yields a
half-loaded program: :func:`load_content` either returns everything or raises
:class:`ContentError`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PRACTICES_FILE = "practices.yml"
MESSAGES_FILE = "messages.yml"
SETTINGS_FILE = "settings.yml"
# Optional: a folder written before the sign-up pool existed still loads.
TOPICS_FILE = "topics.yml"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MESSAGE_PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "invite_text": frozenset({"inviter", "invitee", "inviter_role", "invitee_role"}),
        "invite_sent": frozenset({"invitee", "invitee_role"}),
        "invite_declined": frozenset({"invitee"}),
        "invite_accepted": frozenset({"invitee"}),
        "kickoff_refused": frozenset({"partner", "reason"}),
        "kickoff_greeting": frozenset({"mentor", "mentee"}),
        "group_dm_reopened": frozenset({"mentor", "mentee"}),
        "kickoff_agenda_intro": frozenset(),
        "schedule_prompt": frozenset(),
        "schedule_confirmed": frozenset({"meetings"}),
        "prep_mentee": frozenset({"when", "mentor"}),
        "prep_mentor": frozenset({"when", "mentee"}),
        "prep_first_meeting": frozenset(),
        "prep_later_meeting": frozenset(),
        "prep_shared_with_mentor": frozenset({"mentee", "when", "focus", "questions"}),
        "feedback_prompt": frozenset({"when", "partner", "people"}),
        "feedback_thanks": frozenset(),
        "feedback_partner_notice": frozenset({"partner"}),
        "reschedule_prompt": frozenset(),
        "tip_intro": frozenset({"role"}),
        "end_confirm": frozenset({"partner"}),
        "ended": frozenset({"mentor", "mentee"}),
        "closing_poll": frozenset({"partner", "people"}),
        "help_text": frozenset(),
        "match_notice_mentor": frozenset({"mentee"}),
        "match_unmatched": frozenset(),
        "match_fell_through": frozenset(),
        # Goals and agreement (bot/views/goals.py)
        "goals_modal_title": frozenset(),
        "goals_modal_intro": frozenset(),
        "goals_goal_heading": frozenset({"number"}),
        "goals_what_label": frozenset(),
        "goals_what_placeholder": frozenset(),
        "goals_why_label": frozenset(),
        "goals_why_placeholder": frozenset(),
        "goals_by_when_label": frozenset(),
        "goals_agreement_heading": frozenset(),
        "goals_cadence_label": frozenset(),
        "goals_cadence_weekly": frozenset(),
        "goals_cadence_fortnightly": frozenset(),
        "goals_cadence_monthly": frozenset(),
        "goals_contact_label": frozenset(),
        "goals_contact_placeholder": frozenset(),
        "goals_confidential_label": frozenset(),
        "goals_confidential_placeholder": frozenset(),
        "goals_card_header": frozenset(),
        "goals_card_intro": frozenset({"mentor", "mentee"}),
        "goals_card_empty": frozenset(),
        "goals_card_goal": frozenset({"status", "number", "what", "by_when"}),
        "goals_card_why": frozenset({"why"}),
        "goals_card_agreement": frozenset({"cadence", "contact", "confidential"}),
        "goals_mark_open": frozenset(),
        "goals_mark_some": frozenset(),
        "goals_mark_done": frozenset(),
        "goals_set_button": frozenset(),
        "goals_edit_button": frozenset(),
        "goals_home_heading": frozenset({"open", "done"}),
        "goals_home_none": frozenset(),
        "goals_progress_prompt": frozenset(),
        "goals_progress_not_started": frozenset(),
        "goals_progress_some": frozenset(),
        "goals_progress_done": frozenset(),
        "prep_goals": frozenset({"goals"}),
        # Question parking lot (bot/views/questions.py)
        "question_parked": frozenset(),
        "prep_parked_questions": frozenset({"questions"}),
        "prep_parked_more": frozenset({"count"}),
        # Care before a pair fails (bot/views/care.py)
        "care_nudge_no_first_meeting": frozenset({"mentor", "mentee"}),
        "care_nudge_quiet": frozenset({"mentor", "mentee"}),
        "care_nudge_missed": frozenset({"mentor", "mentee"}),
        "care_schedule_button": frozenset(),
        "slots_intro": frozenset(),
        "slots_none": frozenset(),
        "checkin_prompt": frozenset({"partner"}),
        "checkin_notification": frozenset(),
        "checkin_not_working_button": frozenset(),
        "checkin_thanks": frozenset(),
        "exit_offer": frozenset({"partner"}),
        "exit_rematch_button": frozenset(),
        "exit_end_button": frozenset(),
        "exit_stay_button": frozenset(),
        "exit_stayed": frozenset(),
        "exit_done_rematch": frozenset({"partner"}),
        "exit_done_end": frozenset({"partner"}),
        "exit_partner_notice": frozenset({"partner"}),
        "exit_partner_pool_button": frozenset(),
        "exit_coordinator_notice": frozenset({"mentor", "mentee", "by"}),
        "exit_coordinator_rematch": frozenset({"by"}),
        "pool_already_in": frozenset(),
        # A meeting for people's own calendars (bot/views/calendar.py)
        "calendar_title": frozenset(),
        "calendar_description": frozenset(),
        "calendar_added": frozenset({"when", "minutes"}),
        "calendar_cancelled": frozenset({"when"}),
        "calendar_google_button": frozenset(),
        "calendar_outlook_button": frozenset(),
        "calendar_files_note": frozenset(),
        "calendar_link_moved": frozenset(),
        "calendar_link_cancelled": frozenset(),
        "calendar_moved": frozenset({"when", "minutes"}),
        # Coordinators' outcome figures (bot/views/insights.py, mentor-bot report)
        "outcomes_title": frozenset(),
        "outcomes_rule": frozenset({"k", "who"}),
        "outcomes_who_viewer": frozenset(),
        "outcomes_who_all": frozenset(),
        "outcome_first_meeting": frozenset(),
        "outcome_gap": frozenset(),
        "outcome_still_meeting": frozenset({"days"}),
        "outcome_goals_set": frozenset({"days"}),
        "outcome_goals_done": frozenset(),
        "outcome_days": frozenset({"days", "pairs"}),
        "outcome_more_than": frozenset({"days", "pairs"}),
        "outcome_share": frozenset({"percent", "yes", "pairs"}),
        "outcome_goals": frozenset({"goals", "pairs"}),
        "outcome_goals_done_count": frozenset({"goals"}),
        "outcome_hidden": frozenset({"k"}),
        "outcome_hidden_split": frozenset({"k"}),
    }
)

# Messages that Slack shows in a field with a length limit of its own (a modal title,
# a button, a menu option, a placeholder, a header): longer copy is refused by
# `content check` rather than by Slack.
_TITLE, _BUTTON, _OPTION, _PLACEHOLDER, _HEADER = 24, 75, 75, 150, 150
# A button that shows the choice made puts "✓ " before its copy.
_MARKED_BUTTON = _BUTTON - len("✓ ")
# An input's label: at most 2,000 (docs.slack.dev/reference/block-kit/blocks/input-block).
_LABEL = 2000
# Percent-encoded into the add-to-calendar links (a button's url: at most 3,000,
# docs.slack.dev/reference/block-kit/block-elements/button-element): the title and the
# description each take at most _IN_LINK characters there, whatever their letters
# (an accented one is 6 once encoded, an emoji 12): 150 letters of up to 9 each.
_CALENDAR_DESCRIPTION = 150
_IN_LINK = 150 * 9
IN_CALENDAR_LINKS = frozenset({"calendar_title", "calendar_description"})
# A sign-up topic is a menu option: its id is the option's value, at most 150 characters
# (docs.slack.dev/reference/block-kit/composition-objects/option-object; slack_sdk's
# Option refuses more). A longer label is cut, more than a menu holds left out:
# `content check` warns of those (bot.scheduling.render.content_fit).
TOPIC_ID_MAX = 150
MESSAGE_LIMITS: Mapping[str, tuple[int, str]] = MappingProxyType(
    {
        "goals_modal_title": (_TITLE, "a modal title"),
        "goals_what_placeholder": (_PLACEHOLDER, "a placeholder"),
        "goals_why_placeholder": (_PLACEHOLDER, "a placeholder"),
        "goals_contact_placeholder": (_PLACEHOLDER, "a placeholder"),
        "goals_confidential_placeholder": (_PLACEHOLDER, "a placeholder"),
        "goals_cadence_weekly": (_OPTION, "a menu option"),
        "goals_cadence_fortnightly": (_OPTION, "a menu option"),
        "goals_cadence_monthly": (_OPTION, "a menu option"),
        "goals_card_header": (_HEADER, "a header"),
        "goals_set_button": (_BUTTON, "a button"),
        "goals_edit_button": (_BUTTON, "a button"),
        "goals_progress_not_started": (_MARKED_BUTTON, "a button that shows a ✓ when chosen"),
        "goals_progress_some": (_MARKED_BUTTON, "a button that shows a ✓ when chosen"),
        "goals_progress_done": (_MARKED_BUTTON, "a button that shows a ✓ when chosen"),
        "care_schedule_button": (_BUTTON, "a button"),
        "checkin_not_working_button": (_MARKED_BUTTON, "a button that shows a ✓ when chosen"),
        "exit_rematch_button": (_BUTTON, "a button"),
        "exit_end_button": (_BUTTON, "a button"),
        "exit_stay_button": (_BUTTON, "a button"),
        "exit_partner_pool_button": (_BUTTON, "a button"),
        "calendar_google_button": (_BUTTON, "a button"),
        "calendar_outlook_button": (_BUTTON, "a button"),
        "goals_what_label": (_LABEL, "an input's label"),
        "goals_why_label": (_LABEL, "an input's label"),
        "goals_by_when_label": (_LABEL, "an input's label"),
        "goals_cadence_label": (_LABEL, "an input's label"),
        "goals_contact_label": (_LABEL, "an input's label"),
        "goals_confidential_label": (_LABEL, "an input's label"),
        "calendar_title": (_HEADER, "a calendar event title"),
        "calendar_description": (_CALENDAR_DESCRIPTION, "a calendar event description"),
    }
)

_PRACTICE_LISTS = ("mentor_practices", "mentee_practices", "get_together")
_PRACTICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


@dataclass(frozen=True)
class Practice:
    id: str
    text: str
    guidance: str | None = None
    prep: bool = False
    # Daily-tip order (bot.domain.tips): brought forward in a pairing's first two
    # weeks, and after the person rates a meeting 1 or 2.
    relationship: bool = False
    after_low_rating: bool = False


@dataclass(frozen=True)
class Topic:
    id: str
    label: str


@dataclass(frozen=True)
class ProgramSettings:
    prep_lead: timedelta
    feedback_delay: timedelta
    default_meeting_minutes: int
    tip_time: time
    tip_days: frozenset[int]  # 0 = Monday, as datetime.weekday()
    tip_spread: timedelta
    reschedule_when_fewer_than: int
    # K: coordinators' figures each rest on at least this many people (never fewer than 3).
    privacy_minimum_people: int = 3


@dataclass(frozen=True)
class Content:
    mentor_practices: tuple[Practice, ...]
    mentee_practices: tuple[Practice, ...]
    get_together: tuple[Practice, ...]
    messages: Mapping[str, str]
    settings: ProgramSettings
    directory: Path
    topics: tuple[Topic, ...] = ()

    def topic_label(self, topic_id: str) -> str:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic.label
        return topic_id

    def message(self, key: str, /, **values: object) -> str:
        """The message ``key`` with its placeholders filled from ``values``."""
        return self.messages[key].format(**values)

    def practice(self, practice_id: str) -> Practice:
        for practice in (*self.mentor_practices, *self.mentee_practices, *self.get_together):
            if practice.id == practice_id:
                return practice
        raise KeyError(practice_id)

    def tips_for(self, role: str) -> tuple[Practice, ...]:
        if role == "mentor":
            return self.mentor_practices
        if role == "mentee":
            return self.mentee_practices
        raise ValueError(f"role must be 'mentor' or 'mentee', got {role!r}")


class ContentError(Exception):
    """The content folder has problems; each is one ``file:line: problem`` line."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def bundled_content_dir() -> Path:
    # Beside this module rather than importlib.resources.files("bot"): files() fails
    # when bot is imported as a namespace package (an editable install made before
    # bot/__init__.py existed), and the loader needs a real folder either way.
    return Path(__file__).resolve().parent / "bundled_content"


def load_content(directory: Path | str | None = None) -> Content:
    """Load and validate the content folder (default: the content bundled with the bot)."""
    folder = bundled_content_dir() if directory is None else Path(directory)
    problems: list[str] = []
    practices = _load_file(folder / PRACTICES_FILE, _PracticesFile, problems, _practice_checks)
    messages = _load_file(folder / MESSAGES_FILE, _MessagesFile, problems)
    settings = _load_file(folder / SETTINGS_FILE, _SettingsFile, problems)
    topics = None
    if (folder / TOPICS_FILE).exists():
        topics = _load_file(folder / TOPICS_FILE, _TopicsFile, problems, _duplicate_topic_ids)
    if problems or practices is None or messages is None or settings is None:
        raise ContentError(problems)
    return Content(
        mentor_practices=_practices(practices.mentor_practices),
        mentee_practices=_practices(practices.mentee_practices),
        get_together=_practices(practices.get_together),
        messages=MappingProxyType(messages.model_dump()),
        settings=ProgramSettings(
            prep_lead=timedelta(hours=settings.prep_lead_hours),
            feedback_delay=timedelta(minutes=settings.feedback_delay_minutes),
            default_meeting_minutes=settings.default_meeting_minutes,
            tip_time=settings.tip_time,
            tip_days=frozenset(settings.tip_days),
            tip_spread=timedelta(minutes=settings.tip_spread_minutes),
            reschedule_when_fewer_than=settings.reschedule_when_fewer_than,
            privacy_minimum_people=settings.privacy_minimum_people,
        ),
        directory=folder,
        topics=tuple(Topic(t.id, t.label) for t in topics.topics) if topics else (),
    )


# --- Schema -------------------------------------------------------------------------------------
#
# Validators raise PydanticCustomError so a coordinator reads plain words, not pydantic's.


def _problem(text: str) -> PydanticCustomError:
    # Passed through the context so braces in ``text`` are never read as a template.
    return PydanticCustomError("content", "{problem}", {"problem": text})


def _non_empty_text(value: str) -> str:
    value = value.strip()
    if not value:
        raise _problem("must not be empty")
    return value


def _practice_id(value: str) -> str:
    if not _PRACTICE_ID.match(value):
        raise _problem(
            f"id {value!r} must use lowercase letters, digits and hyphens, "
            "e.g. mentor-genuine-interest"
        )
    return value


def _between(low: int, high: int, unit: str) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise _problem(f"must be between {low} and {high} {unit}, got {value}")
        return value

    return AfterValidator(check)


def _time_of_day(value: object) -> object:
    match = _TIME_OF_DAY.match(value) if isinstance(value, str) else None
    if match is None:
        raise _problem(f'must be a 24-hour time HH:MM such as "09:00", got {value!r}')
    return time(int(match[1]), int(match[2]))


def _weekday(value: object) -> object:
    if not isinstance(value, str) or value.strip().lower() not in WEEKDAYS:
        raise _problem(f"{value!r} is not a day; use {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(value.strip().lower())


def _at_least_one(items: list[Any]) -> list[Any]:
    if not items:
        raise _problem("must list at least one item")
    return items


_Text = Annotated[str, AfterValidator(_non_empty_text)]


class _StrictModel(BaseModel):
    # strict: YAML already gives real numbers and booleans, so "24" or "yes" in
    # quotes is a mistake worth reporting rather than coercing.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _PracticeModel(_StrictModel):
    id: Annotated[str, AfterValidator(_practice_id)]
    text: _Text
    guidance: _Text | None = None
    prep: bool = False
    relationship: bool = False
    after_low_rating: bool = False


_PracticeList = Annotated[list[_PracticeModel], AfterValidator(_at_least_one)]


class _PracticesFile(_StrictModel):
    mentor_practices: _PracticeList
    mentee_practices: _PracticeList
    get_together: _PracticeList


class _MessagesBase(_StrictModel):
    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, template: str, info: ValidationInfo) -> str:
        assert info.field_name is not None
        problem = _template_problem(template, MESSAGE_PLACEHOLDERS[info.field_name])
        if problem:
            raise _problem(problem)
        limit = MESSAGE_LIMITS.get(info.field_name)
        if limit is not None and len(template) > limit[0]:
            raise _problem(
                f"is {len(template)} characters long; Slack shows at most {limit[0]} "
                f"in {limit[1]}"
            )
        if info.field_name in IN_CALENDAR_LINKS and len(quote(template, safe="")) > _IN_LINK:
            raise _problem(
                f"takes {len(quote(template, safe=''))} characters once written into the "
                f"add-to-calendar links (an emoji takes 12); at most {_IN_LINK} fit"
            )
        return template


_MessagesFile = create_model(
    "_MessagesFile",
    __base__=_MessagesBase,
    **{key: (_Text, ...) for key in MESSAGE_PLACEHOLDERS},  # type: ignore[call-overload]
)


class _SettingsFile(_StrictModel):
    prep_lead_hours: Annotated[int, _between(1, 168, "hours")]
    feedback_delay_minutes: Annotated[int, _between(0, 1440, "minutes")]
    default_meeting_minutes: Annotated[int, _between(15, 240, "minutes")]
    tip_time: Annotated[time, BeforeValidator(_time_of_day)]
    tip_days: Annotated[
        list[Annotated[int, BeforeValidator(_weekday)]], AfterValidator(_at_least_one)
    ]
    tip_spread_minutes: Annotated[int, _between(0, 29, "minutes")]
    reschedule_when_fewer_than: Annotated[int, _between(0, 3, "meetings")]
    # Optional, so a content folder written before the setting existed still loads.
    privacy_minimum_people: Annotated[int, _between(3, 100, "people")] = 3


def _at_most(limit: int, what: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if len(value) > limit:
            raise _problem(f"has {len(value)} {what}; Slack's menu takes at most {limit}")
        return value

    return AfterValidator(check)


class _TopicModel(_StrictModel):
    id: Annotated[str, AfterValidator(_practice_id), _at_most(TOPIC_ID_MAX, "characters")]
    label: _Text


class _TopicsFile(_StrictModel):
    topics: Annotated[list[_TopicModel], AfterValidator(_at_least_one)]


def _duplicate_topic_ids(data: Any, line_of: Callable[[_Loc], int]) -> Iterator[tuple[_Loc, str]]:
    first_use: dict[str, int] = {}
    items = data.get("topics") if isinstance(data, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else []):
        topic_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(topic_id, str):
            continue
        if topic_id in first_use:
            loc: _Loc = ("topics", index, "id")
            yield loc, f"duplicate topic id {topic_id!r} (first on line {first_use[topic_id]})"
        else:
            first_use[topic_id] = line_of(("topics", index, "id"))


def _template_problem(template: str, allowed: frozenset[str]) -> str | None:
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        return f"invalid template ({exc}); write {{{{ or }}}} for a literal brace"
    if allowed:
        accepts = "this message accepts " + ", ".join(f"{{{name}}}" for name in sorted(allowed))
    else:
        accepts = "this message takes no placeholders; write {{ or }} for a literal brace"
    # Only plain {name} fields: attribute, index and format-spec syntax would let
    # a template reach into the objects the bot passes in.
    unknown = sorted({f"{{{name}}}" for name, _, _ in fields if name not in allowed})
    if unknown:
        return f"unknown placeholder {', '.join(unknown)}; {accepts}"
    if any(spec or conversion for _, spec, conversion in fields):
        return "write placeholders as plain {name}, without ! or : formatting"
    return None


def _practices(models: list[_PracticeModel]) -> tuple[Practice, ...]:
    return tuple(
        Practice(m.id, m.text, m.guidance, m.prep, m.relationship, m.after_low_rating)
        for m in models
    )


# --- Reading YAML and locating problems ---------------------------------------------------------

_Model = TypeVar("_Model", bound=BaseModel)
_Loc = tuple[str | int, ...]
_ExtraCheck = Callable[[Any, Callable[[_Loc], int]], Iterator[tuple[_Loc, str]]]


def _load_file(
    path: Path, model: type[_Model], problems: list[str], extra_check: _ExtraCheck | None = None
) -> _Model | None:
    found: list[tuple[int, str]] = []
    result = _validate_file(path, model, found, extra_check)
    problems.extend(f"{path}:{line}: {text}" if line else f"{path}: {text}" for line, text in found)
    return None if found else result


def _validate_file(
    path: Path, model: type[_Model], found: list[tuple[int, str]], extra_check: _ExtraCheck | None
) -> _Model | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        found.append((0, "file not found"))
        return None
    except UnicodeDecodeError as exc:
        found.append((exc.object[: exc.start].count(b"\n") + 1, "not UTF-8 text"))
        return None
    except OSError as exc:
        found.append((0, f"cannot read: {exc.strerror}"))
        return None

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            found.append((1, "file is empty"))
            return None
        _read_times_as_text(root)
        data = yaml.constructor.SafeConstructor().construct_document(root)
    except RecursionError:  # lists in lists hundreds deep: no content file is like it
        found.append((1, "nested too deeply to be content (lists or maps inside each other)"))
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = f"YAML syntax error: {exc.problem or exc}"
        if exc.context and exc.context_mark:
            problem += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        found.append((mark.line + 1 if mark else 1, problem))
        return None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        found.append((line, f"YAML cannot contain the character {exc.character!r}"))
        return None

    found.extend(_duplicate_keys(root))
    result = None
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            found.append((_line_of_error(root, error), _describe(error)))
    if extra_check is not None:
        found.extend(
            (_line_of(root, loc), text)
            for loc, text in extra_check(data, lambda loc: _line_of(root, loc))
        )
    found.sort(key=lambda problem: problem[0])
    return result


def _walk(root: Node) -> Iterator[Node]:
    # Anchors and aliases can make the node graph cyclic; visit each node once.
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, MappingNode):
            pending.extend(child for pair in node.value for child in pair)
        elif isinstance(node, SequenceNode):
            pending.extend(node.value)


def _read_times_as_text(root: Node) -> None:
    # YAML 1.1 reads a bare 10:30 as the base-60 number 630; nobody writing
    # content means that, and tip_time must see the text.
    for node in _walk(root):
        if (
            isinstance(node, ScalarNode)
            and node.tag in _NUMBER_TAGS
            and node.style is None
            and ":" in node.value
        ):
            node.tag = _STR_TAG


def _duplicate_keys(root: Node) -> Iterator[tuple[int, str]]:
    # PyYAML silently keeps the last of two equal keys, hiding the first edit.
    for node in _walk(root):
        if not isinstance(node, MappingNode):
            continue
        first_line: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode):
                continue
            line = key.start_mark.line + 1
            if key.value in first_line:
                yield line, f"duplicate key '{key.value}' (first on line {first_line[key.value]})"
            else:
                first_line[key.value] = line


def _practice_checks(data: Any, line_of: Callable[[_Loc], int]) -> Iterator[tuple[_Loc, str]]:
    yield from _duplicate_ids(data, line_of)
    yield from _tip_tags_outside_tips(data)


_TIP_TAGS = ("relationship", "after_low_rating")


def _tip_tags_outside_tips(data: Any) -> Iterator[tuple[_Loc, str]]:
    # The agenda is never sent as a daily tip, so a tip-order tag there would do nothing.
    items = data.get("get_together") if isinstance(data, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else []):
        for tag in _TIP_TAGS:
            if isinstance(item, dict) and item.get(tag) is True:
                yield (
                    ("get_together", index, tag),
                    f"'{tag}' orders daily tips, which come from mentor_practices and "
                    "mentee_practices only; remove it here",
                )


def _duplicate_ids(data: Any, line_of: Callable[[_Loc], int]) -> Iterator[tuple[_Loc, str]]:
    # Tip history is stored by practice id, so an id must name one practice in all lists.
    first_use: dict[str, _Loc] = {}
    for list_name in _PRACTICE_LISTS:
        items = data.get(list_name) if isinstance(data, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            practice_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(practice_id, str):
                continue
            loc: _Loc = (list_name, index, "id")
            if practice_id in first_use:
                first = line_of(first_use[practice_id])
                yield loc, f"duplicate practice id '{practice_id}' (first used on line {first})"
            else:
                first_use[practice_id] = loc


def _line_of_error(root: Node, error: Any) -> int:
    loc = tuple(error["loc"])
    if error["type"] == "missing":
        return _line_of(root, loc[:-1])
    return _line_of(root, loc, at_key=error["type"] == "extra_forbidden")


def _line_of(root: Node, loc: _Loc, *, at_key: bool = False) -> int:
    """1-based line of the node at ``loc``, or of its nearest existing ancestor."""
    node = root
    for depth, part in enumerate(loc):
        if isinstance(node, MappingNode):
            # The last of duplicate keys wins in the loaded data, so search from the end.
            pair = next(
                (pair for pair in reversed(node.value) if _key_text(pair[0]) == str(part)), None
            )
            if pair is None:
                break
            node = pair[0] if at_key and depth == len(loc) - 1 else pair[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node.start_mark.line + 1


def source_line(directory: Path | str, file: str, key: str) -> str:
    """``path:line`` of a message key, or of the ``id`` of a practice or topic, in a
    content folder: where a problem found after loading points (``content check``)."""
    path = Path(directory) / file
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return str(path)
    if not isinstance(root, MappingNode):
        return f"{path}:1"
    loc: _Loc = (key,)
    for list_key, items in root.value:
        if isinstance(items, SequenceNode):
            for index, item in enumerate(items.value):
                if isinstance(item, MappingNode) and any(
                    _key_text(k) == "id" and _key_text(v) == key for k, v in item.value
                ):
                    loc = (_key_text(list_key) or "", index, "id")
    return f"{path}:{_line_of(root, loc, at_key=True)}"


def _key_text(key: Node) -> str | None:
    return key.value if isinstance(key, ScalarNode) else None


_TYPE_PROBLEMS = {
    "model_type": "expected key: value pairs",
    "model_attributes_type": "expected key: value pairs",
    "dict_type": "expected key: value pairs",
    "list_type": "expected a list",
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
}


def _describe(error: Any) -> str:
    where = _dotted(tuple(error["loc"]))
    kind = error["type"]
    if kind == "missing":
        return f"missing required key '{where}'"
    if kind == "extra_forbidden":
        return f"unknown key '{where}'"
    text = _TYPE_PROBLEMS.get(kind, error["msg"])
    return f"{where}: {text}" if where else text


def _dotted(loc: _Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text
