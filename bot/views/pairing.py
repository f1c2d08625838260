"""Messages of the pairing journey: help, invitation, kickoff, status."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
)

from bot.buttons import pair_value
from bot.content import Content
from bot.domain.commands import format_minute
from bot.ids import Action
from bot.services.overview import Overview, PairLine
from bot.views.common import (
    MESSAGE_TEXT_BUDGET,
    context,
    fitting,
    mention,
    numbered,
    packed,
    section,
    slack_date,
)
from bot.views.goals import goals_button


def help_blocks(content: Content) -> list[Block]:
    return [section(content.message("help_text"))]


_HELP_CACHE: dict[int, tuple[Content, list[dict]]] = {}


def help_payload(content: Content) -> list[dict]:
    """The help blocks as dicts, built once per content: help is the hottest command."""
    cached = _HELP_CACHE.get(id(content))
    if cached is None or cached[0] is not content:
        cached = (content, [b.to_dict() for b in help_blocks(content)])
        _HELP_CACHE[id(content)] = cached
    return cached[1]


def invitation_blocks(
    content: Content,
    *,
    pair_id: int,
    inviter_id: str,
    invitee_id: str,
    inviter_role: str,
    matched: bool = False,
) -> list[Block]:
    """Accept / Decline. ``matched``: the program coordinators paired them from the
    sign-up pool (the invitation is in the mentor's name), and it says so."""
    invitee_role = "mentee" if inviter_role == "mentor" else "mentor"
    text = content.message(
        "invite_text",
        inviter=mention(inviter_id),
        invitee=mention(invitee_id),
        inviter_role=inviter_role,
        invitee_role=invitee_role,
    )
    origin = (
        [context("The program coordinators matched you two from the mentoring pool.")]
        if matched
        else []
    )
    return [
        section(text),
        *origin,
        ActionsBlock(
            block_id=f"invite:{pair_id}",
            elements=[
                ButtonElement(
                    text="Accept",
                    action_id=Action.ACCEPT_INVITE,
                    value=pair_value(pair_id),
                    style="primary",
                ),
                ButtonElement(
                    text="Decline",
                    action_id=Action.DECLINE_INVITE,
                    value=pair_value(pair_id),
                ),
            ],
        ),
    ]


def invitation_answered_blocks(
    *, inviter_id: str, accepted: bool, withdrawn: bool = False
) -> list[Block]:
    if withdrawn:
        text = f"{mention(inviter_id)} withdrew this invitation, so there is nothing to answer."
    elif accepted:
        text = (
            f"You accepted {mention(inviter_id)}'s invitation. I'm opening a group chat for "
            "the two of you. :tada:"
        )
    else:
        text = f"You declined {mention(inviter_id)}'s invitation. I've let them know, kindly."
    return [section(text)]


def kickoff_blocks(
    content: Content, *, pair_id: int, mentor_id: str, mentee_id: str
) -> list[Block]:
    steps = numbered([step.text for step in content.get_together])
    return [
        HeaderBlock(text="Welcome to your mentoring pair"),
        section(
            content.message(
                "kickoff_greeting", mentor=mention(mentor_id), mentee=mention(mentee_id)
            )
        ),
        section(f"*Mentor:* {mention(mentor_id)}\n*Mentee:* {mention(mentee_id)}"),
        DividerBlock(),
        section(content.message("kickoff_agenda_intro") + "\n" + steps),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Schedule our next 3 meetings",
                    action_id=Action.OPEN_SCHEDULE,
                    value=pair_value(pair_id),
                    style="primary",
                ),
                goals_button(content, pair_id=pair_id, has_goals=False),
            ]
        ),
    ]


def status_blocks(overview: Overview) -> list[Block]:
    blocks: list[Block] = []
    if not overview.pairs:
        blocks.append(
            section(
                "You're not in a mentoring pair right now. Start one with "
                "`/mentor start @person` "
                "(you mentor them) or `/mentor start @person as mentee`."
            )
        )
    # One pair a paragraph, packed into sections, as many as one message's text holds:
    # someone with dozens of open invitations still gets an answer Slack takes.
    several = len(overview.active) > 1
    lines = [pair_summary(line, several=several) for line in overview.pairs]
    shown = fitting(lines, MESSAGE_TEXT_BUDGET, sep="\n\n")
    blocks += [section(text) for text in packed(lines[:shown], sep="\n\n")]
    if shown < len(lines):
        blocks.append(context(f"…and {len(lines) - shown} more."))
    if overview.pool_role is not None:
        paused = overview.paused_until is not None
        blocks.append(
            context(pool_summary(overview.pool_role, open_roles=overview.pool_open, paused=paused))
        )
    blocks.append(context(tips_summary(overview)))
    return blocks


def pool_summary(role: str, *, open_roles: str, paused: bool = False) -> str:
    """Where someone in the sign-up pool (as ``role``) stands: waiting for a
    coordinator's match in ``open_roles``, or not while paused or while their pairings
    fill what they offered."""
    as_what = "as a mentor and as a mentee" if role == "both" else f"as a {role}"
    if paused:
        waiting = "no new match while you're paused"
    elif not open_roles:
        waiting = "no new match while your pairings fill what you signed up for"
    elif open_roles != role:
        waiting = f"a coordinator's next match may pair you as a {open_roles}"
    else:
        waiting = "a coordinator's next match may pair you"
    return (
        f"You're in the mentoring pool {as_what}: {waiting}. `/mentor join` changes your "
        "sign-up, `/mentor leave` takes you out."
    )


def pair_summary(
    line: PairLine, *, answer_here: bool = False, several: bool = False, listed: bool = False
) -> str:
    """One pair in a paragraph; ``answer_here``: an invitation's Accept and Decline are
    right below it (App Home), not only in the invitation DM; ``several``: the person has
    more than one active pair, so a command must name the partner; ``listed``: its next
    meetings follow as lines of their own (App Home), so the paragraph leaves them out."""
    partner = mention(line.partner_id)
    partner_role = "mentee" if line.role == "mentor" else "mentor"
    if line.status == "invited":
        # When it lapses unanswered (bot.domain.invitations), in the reader's own zone.
        by = f" by {slack_date(line.answer_by, '{date_long}')}" if line.answer_by else ""
        if line.invited_by_me:
            return (
                f"*Invitation sent* to {partner} (they'd be your {partner_role}); "
                f"waiting for them to answer{by}."
            )
        where = "below or in our DM" if answer_here else "in our DM"
        return f"*Invitation from* {partner}: they'd be your {partner_role}. Answer it {where}{by}."
    text = f"*You are the {line.role}* of the pair with {partner} (your {partner_role})."
    if line.group_dm_refused is not None:
        text += "\n" + group_dm_waiting(line.group_dm_refused)
    if line.next_meetings and listed:
        text += "\nNext meetings:"
    elif line.next_meetings:
        meetings = "\n".join(
            f"• {slack_date(m.starts_at)} ({m.minutes} min)" for m in line.next_meetings
        )
        text += f"\nNext meetings:\n{meetings}"
    else:
        command = f"`/mentor schedule` naming {partner}" if several else "`/mentor schedule`"
        text += f"\nNo meetings planned yet: {command} sets the next three."
    return text


_SLACK_REFUSAL = re.compile(r"^([a-z_]+)(?: \(needed: ([\w:.,]+)\))?$")


def group_dm_waiting(error: str, partner_id: str | None = None) -> str:
    """An active pair's group DM that Slack has refused so far, and why (a Slack error
    code, and the scope the install lacks when that is why; anything else, such as a
    connection's, is not worth a member's reading)."""
    refusal = _SLACK_REFUSAL.match(error)
    if refusal is None or refusal.group(1) == "ratelimited":
        why = "Slack was busy" if refusal else "Slack didn't answer"
    elif refusal.group(2):
        why = (
            f"Slack refused it (`{refusal.group(1)}`: the app lacks the "
            f"`{refusal.group(2)}` permission)"
        )
    else:
        why = f"Slack refused it (`{refusal.group(1)}`)"
    with_whom = f" with {mention(partner_id)}" if partner_id else ""
    return (
        f"Your group DM{with_whom} isn't open yet: {why}. I'm trying again, and everything "
        "for it waits; if this lasts, tell whoever runs Mentor Bot in your workspace."
    )


def _your_time(overview: Overview) -> str:
    """The words "your time (Asia/Kolkata)", or only "your time" before the zone is known."""
    return f"your time ({overview.tz})" if overview.tz else "your time"


DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def tip_days_words(days: frozenset[int]) -> str:
    """When tips come, as the program's ``tip_days`` say: "on working days" (Monday to
    Friday), "every day", or the days by name ("on Saturdays and Sundays")."""
    if days == frozenset(range(5)):
        return "on working days"
    if days == frozenset(range(7)):
        return "every day"
    names = [DAY_NAMES[day] for day in sorted(days)]
    return "on " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


def tips_summary(overview: Overview) -> str:
    if not overview.tips_enabled:
        return "Daily tips are *off*. Turn them back on with `/mentor tips on`."
    if overview.paused_until is not None:
        until = slack_date(overview.paused_until, "{date_long}")
        when = (
            f"{tip_days_words(overview.tip_days)} at *{format_minute(overview.tip_minute)}* "
            f"{_your_time(overview)}"
        )
        back = (
            f"Tips come back on their own then, {when}."
            if overview.active
            else f"Then, while you're in a mentoring pair, tips come {when}."
        )
        return (
            f"Daily tips and new matches are *paused* until {until}. {back} "
            "`/mentor pause off` ends the pause sooner."
        )
    if not overview.active:  # tips come only with a pair that is under way
        return (
            f"Daily tips come while you're in a mentoring pair, "
            f"{tip_days_words(overview.tip_days)} at *{format_minute(overview.tip_minute)}* "
            f"{_your_time(overview)}."
        )
    return (
        f"Daily tips arrive {tip_days_words(overview.tip_days)} at "
        f"*{format_minute(overview.tip_minute)}* {_your_time(overview)}. "
        "Change with `/mentor tips at HH:MM` or `/mentor tips off`."
    )
