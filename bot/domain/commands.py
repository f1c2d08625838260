"""Parsing the text after ``/mentor`` into a command, with friendly errors."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.errors import UserError

# With should_escape the mention arrives as <@U123|name>; older clients send <@U123>.
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
USER_ID = re.compile(r"[UW][A-Z0-9]+")
# Punctuation typed after a word ("start @bob.", "as mentee!") is not part of it.
_TRAILING = ".,;:!?"


def _mention(word: str) -> re.Match[str] | None:
    return _MENTION.match(word.rstrip(_TRAILING))
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")

USAGE_START = "`/mentor start @person` (you mentor them) or `/mentor start @person as mentee`"


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Start:
    user_id: str
    caller_role: str  # "mentor" | "mentee"


@dataclass(frozen=True)
class Schedule:
    """``/mentor schedule [@partner]``: the partner says which pair, for someone in two."""

    partner: str | None = None


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class Tips:
    enabled: bool
    minute: int | None = None  # minutes after local midnight, for `tips at HH:MM`


@dataclass(frozen=True)
class End:
    """``/mentor end [@partner]``: the partner says which pair, for someone in two."""

    partner: str | None = None


@dataclass(frozen=True)
class Join:
    pass


@dataclass(frozen=True)
class Leave:
    pass


@dataclass(frozen=True)
class Pause:
    days: int  # 0: `pause off`, the pause ends now


@dataclass(frozen=True)
class Match:
    pass


@dataclass(frozen=True)
class Exclude:
    """A coordinator's rule: never match these two (``lift``: that rule lifted)."""

    first: str
    second: str
    lift: bool = False


@dataclass(frozen=True)
class ForgetMe:
    pass


@dataclass(frozen=True)
class MyData:
    pass


@dataclass(frozen=True)
class Ask:
    """``/mentor ask [@partner] <question>``: a question parked for the next meeting.
    ``question`` is everything typed; ``partner``/``rest``: a leading mention and what
    follows it, used when the caller is in several pairs (the service decides)."""

    question: str
    partner: str | None = None
    rest: str = ""


Command = (
    Help
    | Start
    | Schedule
    | Status
    | Tips
    | End
    | Join
    | Leave
    | Pause
    | Match
    | Exclude
    | ForgetMe
    | MyData
    | Ask
)

SUBCOMMANDS = (
    "help",
    "start",
    "schedule",
    "status",
    "tips",
    "end",
    "join",
    "leave",
    "pause",
    "match",
    "exclude",
    "my-data",
    "forget-me",
    "ask",
)
_DURATION = re.compile(r"^(\d{1,2})([dw])$")
MAX_PAUSE_DAYS = 90


def parse_command(text: str | None) -> Command:
    words = (text or "").split()
    if not words:
        return Help()
    verb, rest = words[0].lower(), words[1:]
    if verb in {"help", "?"}:
        return Help()
    if verb in {"start", "pair", "invite"}:
        return _parse_start(rest)
    if verb == "schedule":
        return Schedule(partner=_partner(verb, rest))
    if verb == "status":
        return Status()
    if verb == "tips":
        return _parse_tips(rest)
    if verb == "end":
        return End(partner=_partner(verb, rest))
    simple = {
        "join": Join,
        "leave": Leave,
        "match": Match,
        "forget-me": ForgetMe,
        "my-data": MyData,
    }
    if verb in simple:
        return simple[verb]()
    if verb == "pause":
        return _parse_pause(rest)
    if verb == "exclude":
        return _parse_exclude(rest)
    if verb == "ask":
        return _parse_ask((text or "").strip()[len(words[0]) :].strip())
    named = f"`/mentor {words[0]}`" if _echoable(words[0]) else "that command"
    raise UserError(
        f"I don't know {named}. Try `/mentor help` to see what I can do: "
        + ", ".join(f"`{s}`" for s in SUBCOMMANDS)
        + "."
    )


def _echoable(typed: str) -> bool:
    """Whether words from a command can be quoted back as they are: not when they hold
    Slack's markup or escapes (a mention, ``<!here>``, ``&lt;``), which would show as
    code (``<@U123|ana>``) or, quoted carelessly, live."""
    return "<" not in typed and "&" not in typed


def _partner(verb: str, rest: list[str]) -> str | None:
    """The one partner named after ``schedule`` or ``end`` (to say which pair), if any."""
    if not rest:
        return None
    mention = _mention(rest[0])
    if mention is None or len(rest) > 1:
        raise UserError(
            f"Use `/mentor {verb}`, or, if you're in more than one pair, name your partner: "
            f"`/mentor {verb} @partner`."
        )
    return mention.group(1)


def _parse_start(rest: list[str]) -> Start:
    if not rest:
        raise UserError(f"Who would you like to pair with? Use {USAGE_START}.")
    mention = _mention(rest[0])  # "start @bob." or "start @bob, please": bob all the same
    if mention is None:
        if rest[0].startswith("@"):
            raise UserError(
                f"I couldn't find {rest[0].rstrip(_TRAILING)} in this workspace. Pick the "
                f"person from the @-mention list so Slack links their name, e.g. {USAGE_START}."
            )
        raise UserError(f"Mention the person with @, for example {USAGE_START}.")
    tail = [w.lower().rstrip(_TRAILING) for w in rest[1:]]
    tail = [w for w in tail if w]
    if not tail or tail == ["as", "mentor"]:
        return Start(user_id=mention.group(1), caller_role="mentor")
    if tail == ["as", "mentee"]:
        return Start(user_id=mention.group(1), caller_role="mentee")
    if any(_mention(word) for word in rest[1:]):
        raise UserError(f"Invite one person at a time: {USAGE_START}.")
    typed = " ".join(rest[1:])
    said = f"`{typed}`" if _echoable(typed) else "what came after the person"
    raise UserError(
        f"I didn't understand {said}. "
        f"Add `as mentee` or `as mentor` after the person, e.g. {USAGE_START}."
    )


# Slack's markup in a command's text (``should_escape``): a mention, a channel, a
# broadcast or a link, with its label when it has one.
_MARKUP = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def plain_text(text: str) -> str:
    """A command's text as the person typed it: Slack's markup back to what it shows
    (``<!channel>`` → ``@channel``, ``<#C1|general>`` → ``#general``, ``<https://x|x>``
    → the link, ``<https://x|see this>`` → ``see this (https://x)``: the address stays,
    and in the open) and its ``&amp;``/``&lt;``/``&gt;`` back to characters. Stored so,
    it is escaped again wherever it is shown, never live. A person mentioned is kept by
    ID, ``<@U1|ana>`` → ``@U1``: shown as Slack shows a mention, by their current name
    (``bot.views.common.typed_mentions``), and gone with their forget-me, which a
    handle kept as words would outlive."""

    def shown(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "!":
            return "@" + (label or target.split("^")[0]).lstrip("@")
        if sigil == "@" and USER_ID.fullmatch(target):
            return "@" + target
        if sigil in ("@", "#"):
            return sigil + (label or target).lstrip(sigil)
        if not label or label == target or target == f"mailto:{label}":
            return label or target
        return f"{label} ({target})"

    text = _MARKUP.sub(shown, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _parse_ask(typed: str) -> Ask:
    """The question as typed (its length and emptiness are checked where it is saved)."""
    first, tail = [*typed.split(None, 1), "", ""][:2]
    mention = _MENTION.match(first)
    if mention is None:
        return Ask(question=plain_text(typed))
    return Ask(question=plain_text(typed), partner=mention.group(1), rest=plain_text(tail))


def _parse_tips(rest: list[str]) -> Tips:
    usage = "Use `/mentor tips off`, `/mentor tips on` or `/mentor tips at 08:30`."
    if not rest:
        raise UserError(usage)
    mode = rest[0].lower()
    if mode == "off" and len(rest) == 1:
        return Tips(enabled=False)
    if mode == "on" and len(rest) == 1:
        return Tips(enabled=True)
    if mode == "at" and len(rest) == 2:
        match = _TIME.match(rest[1])
        if match is None:
            said = f"`{rest[1]}`" if _echoable(rest[1]) else "That"
            raise UserError(f"{said} is not a time of day. Use 24-hour HH:MM, e.g. 08:30.")
        return Tips(enabled=True, minute=int(match.group(1)) * 60 + int(match.group(2)))
    raise UserError(usage)


def _parse_exclude(rest: list[str]) -> Exclude:
    usage = (
        "Use `/mentor exclude @person @other` to keep two people from being matched, and "
        "`/mentor exclude @person @other off` to lift it."
    )
    lift = bool(rest) and rest[-1].lower() == "off"
    if lift:
        rest = rest[:-1]
    mentions = [_mention(word) for word in rest]
    if len(rest) != 2 or not all(mentions):
        raise UserError(usage)
    first, second = (m.group(1) for m in mentions if m)
    if first == second:
        raise UserError("Name two different people. " + usage)
    return Exclude(first=first, second=second, lift=lift)


def _parse_pause(rest: list[str]) -> Pause:
    usage = (
        "Use `/mentor pause 2w` (weeks) or `/mentor pause 10d` (days), up to 90 days; "
        "`/mentor pause off` ends a pause."
    )
    if [word.lower() for word in rest] == ["off"]:
        return Pause(days=0)
    match = _DURATION.match(rest[0].lower()) if len(rest) == 1 else None
    if match is None:
        raise UserError(usage)
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if not 1 <= days <= MAX_PAUSE_DAYS:
        raise UserError(usage)
    return Pause(days=days)


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
