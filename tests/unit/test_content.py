import re
import shutil
from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.content import (
    MESSAGE_PLACEHOLDERS,
    ContentError,
    Practice,
    bundled_content_dir,
    load_content,
)

# The three lists of seed/mentoring-best-practices-part-two.txt, copied verbatim.
SEED = """\
Best Practices for Mentors:
1. Take a genuine interest in your mentee’s progress and development.
2. Establish two-way open communication.
3. Utilize active listening (L4) skills.
4. Make yourself available for questions.
5. Build confidence and trust.
6. Be honest and transparent.
7. Share personal experience and knowledge. Provide examples of personal successes, setbacks & challenges.
8. Introduce your mentee to clients / management / peer network.
9. Be open to hearing a different perspective from your mentee.
10. Demonstrate and model how you do things.
Best Practices for Mentee:
1. Take initiative to make the most out of the relationships.
2. Be curious.
3. Come prepared with area of focus and questions you want to work on.
4. Use active listening (L4) skills.
5. Be open and receptive to feedback.
6. Contact your mentor when you have a question.
7. Offer feedback about what’s helpful for you.
8. Think of ways to apply what you learn on a daily basis.
9. Cultivate the relationships based on interest, trust and confidence.
10. Communicate with your supervisor.
What to do when we do get together?
1. Get acquainted. Build the relationships first.
2. Discuss your current role and responsibilities, past positions and key experiences.
3. Tell a short version of your career story-line.
4. Find personal information that you are willing to share (hobbies etc.).
5. Share your strengths, aspirations & development needs.
6. Build schedule. Set the next three meeting. Consider logistics.
7. Ask each other what will make this a rewarding experience.
8. Negotiate expectations and agreements.
9. Make the meeting focus relevant to support your development needs and plans.
10. As you progress, expand the range of activities. Include shadowing, attending a business meeting, advice on a project/assignment and more.
"""  # noqa: E501


def seed_lists() -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    current: list[str] = []
    for line in SEED.splitlines():
        numbered = re.match(r"^\d+\. (.*)$", line)
        if numbered:
            current.append(numbered[1])
        else:
            current = lists.setdefault(line, [])
    return lists


@pytest.fixture(scope="module")
def content():
    return load_content()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A writable copy of the bundled content."""
    target = tmp_path / "content"
    target.mkdir()
    for name in ("practices.yml", "messages.yml", "settings.yml", "topics.yml"):
        shutil.copyfile(bundled_content_dir() / name, target / name)
    return target


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    lines = [n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} must be on exactly one line of {path.name}"
    return lines[0]


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def assert_one_problem(folder: Path, file_name: str, line: int, fragment: str) -> None:
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{folder / file_name}:{line}: "), problems
    assert fragment in problems[0], problems


# --- The bundled content ------------------------------------------------------------------------


def test_bundled_content_loads(content):
    assert len(content.mentor_practices) == 10
    assert len(content.mentee_practices) == 10
    assert len(content.get_together) == 10
    assert set(content.messages) == set(MESSAGE_PLACEHOLDERS)
    assert content.directory == bundled_content_dir()


def test_bundled_lists_match_the_seed_exactly(content):
    seed = seed_lists()
    assert [p.text for p in content.mentor_practices] == seed["Best Practices for Mentors:"]
    assert [p.text for p in content.mentee_practices] == seed["Best Practices for Mentee:"]
    assert [p.text for p in content.get_together] == seed["What to do when we do get together?"]


def test_bundled_practices_have_guidance_and_well_formed_unique_ids(content):
    practices = [*content.mentor_practices, *content.mentee_practices, *content.get_together]
    ids = [p.id for p in practices]
    assert len(set(ids)) == len(ids)
    assert all(re.match(r"^[a-z0-9][a-z0-9-]*$", i) for i in ids)
    assert all(p.guidance for p in practices)
    assert content.mentor_practices[0].id == "mentor-genuine-interest"
    assert content.mentee_practices[0].id == "mentee-take-initiative"
    assert content.get_together[0].id == "together-get-acquainted"


def test_bundled_prep_practices_are_mentor_practices_that_fit_a_meeting(content):
    assert {p.id for p in content.mentor_practices if p.prep} == {
        "mentor-two-way-communication",
        "mentor-active-listening",
        "mentor-share-experience",
        "mentor-open-to-perspective",
        "mentor-demonstrate-model",
    }
    assert not any(p.prep for p in (*content.mentee_practices, *content.get_together))


def test_bundled_settings(content):
    settings = content.settings
    assert settings.prep_lead == timedelta(hours=24)
    assert settings.feedback_delay == timedelta(minutes=60)
    assert settings.default_meeting_minutes == 45
    assert settings.tip_time == time(9, 0)
    assert settings.tip_days == frozenset({0, 1, 2, 3, 4})
    assert settings.tip_spread == timedelta(0)
    assert settings.reschedule_when_fewer_than == 1
    assert settings.privacy_minimum_people == 3


@pytest.mark.parametrize("key", sorted(MESSAGE_PLACEHOLDERS))
def test_every_bundled_message_formats_with_its_placeholders(content, key):
    values = {name: f"<{name}>" for name in MESSAGE_PLACEHOLDERS[key]}
    text = content.message(key, **values)
    assert text.strip() == text and text
    assert "{" not in text and "}" not in text
    for value in values.values():
        assert value in text, f"{key} never uses {value}"


def test_loads_from_a_string_path(folder):
    assert load_content(str(folder)).directory == folder


# --- Lookups ------------------------------------------------------------------------------------


def test_message_fills_placeholders(content):
    assert content.message("invite_declined", invitee="<@U2>").startswith("<@U2> has declined")


def test_message_of_an_unknown_key_is_a_key_error(content):
    with pytest.raises(KeyError):
        content.message("no_such_message")


def test_message_without_a_needed_value_is_a_key_error(content):
    with pytest.raises(KeyError):
        content.message("invite_declined")


def test_practice_finds_an_id_in_any_list(content):
    curious = content.practice("mentee-be-curious")
    assert isinstance(curious, Practice)
    assert (curious.id, curious.text, curious.prep) == ("mentee-be-curious", "Be curious.", False)
    assert content.practice("together-build-schedule") is content.get_together[5]
    with pytest.raises(KeyError):
        content.practice("no-such-practice")


def test_tips_for_each_role(content):
    assert content.tips_for("mentor") == content.mentor_practices
    assert content.tips_for("mentee") == content.mentee_practices
    with pytest.raises(ValueError):
        content.tips_for("coordinator")


# --- Problems, each with the file and the line of the offending node ----------------------------


def test_missing_file(folder):
    (folder / "settings.yml").unlink()
    assert problems_of(folder) == [f"{folder / 'settings.yml'}: file not found"]


def test_missing_folder_reports_every_file(tmp_path):
    missing = tmp_path / "nowhere"
    assert problems_of(missing) == [
        f"{missing / name}: file not found"
        for name in ("practices.yml", "messages.yml", "settings.yml")
    ]


def test_yaml_syntax_error(folder):
    path = folder / "settings.yml"
    replace_once(path, "prep_lead_hours: 24", "prep_lead_hours: 24: 25")
    line = line_of(path, "prep_lead_hours")
    assert_one_problem(folder, "settings.yml", line, "YAML syntax error: mapping values")


def test_empty_file(folder):
    (folder / "messages.yml").write_text("# nothing yet\n", encoding="utf-8")
    assert_one_problem(folder, "messages.yml", 1, "file is empty")


def test_top_level_must_be_a_mapping(folder):
    (folder / "practices.yml").write_text("# a list\n- Be curious.\n", encoding="utf-8")
    assert_one_problem(folder, "practices.yml", 2, "expected key: value pairs")


def test_wrong_type(folder):
    path = folder / "settings.yml"
    replace_once(path, "prep_lead_hours: 24", 'prep_lead_hours: "24"')
    line = line_of(path, "prep_lead_hours")
    assert_one_problem(folder, "settings.yml", line, "prep_lead_hours: expected a whole number")


def test_wrong_type_in_a_practice(folder):
    path = folder / "practices.yml"
    replace_once(
        path,
        "    prep: true\n    guidance: >-\n      Make it",
        "    prep: maybe\n    guidance: >-\n      Make it",
    )
    line = line_of(path, "prep: maybe")
    assert_one_problem(
        folder, "practices.yml", line, "mentor_practices[1].prep: expected true or false"
    )


def test_practice_that_is_not_a_mapping(folder):
    path = folder / "practices.yml"
    replace_once(path, "mentee_practices:\n", "mentee_practices:\n  - Be brave.\n")
    line = line_of(path, "Be brave.")
    assert_one_problem(folder, "practices.yml", line, "mentee_practices[0]: expected key: value")


def test_missing_required_key_points_at_its_mapping(folder):
    path = folder / "practices.yml"
    replace_once(path, '    text: "Think of ways to apply what you learn on a daily basis."\n', "")
    line = line_of(path, "id: mentee-apply-daily")
    assert_one_problem(
        folder, "practices.yml", line, "missing required key 'mentee_practices[7].text'"
    )


def test_missing_required_list(folder):
    path = folder / "practices.yml"
    replace_once(path, "get_together:", "get_togethr:")
    mapping_start = line_of(path, "mentor_practices:")  # the header comment is not a node
    assert problems_of(folder) == [
        f"{path}:{mapping_start}: missing required key 'get_together'",
        f"{path}:{line_of(path, 'get_togethr:')}: unknown key 'get_togethr'",
    ]


def test_unknown_key(folder):
    path = folder / "practices.yml"
    replace_once(path, "    guidance: >-\n      Ask why", "    guidence: >-\n      Ask why")
    line = line_of(path, "guidence")
    assert_one_problem(folder, "practices.yml", line, "unknown key 'mentee_practices[1].guidence'")


def test_duplicate_practice_id_across_lists(folder):
    path = folder / "practices.yml"
    first = line_of(path, "id: mentor-genuine-interest")
    replace_once(path, "id: together-career-story", "id: mentor-genuine-interest # again")
    line = line_of(path, "# again")
    assert_one_problem(
        folder,
        "practices.yml",
        line,
        f"duplicate practice id 'mentor-genuine-interest' (first used on line {first})",
    )


def test_empty_text(folder):
    path = folder / "practices.yml"
    replace_once(path, 'text: "Be curious."', 'text: "  "')
    line = line_of(path, 'text: "  "')
    assert_one_problem(folder, "practices.yml", line, "mentee_practices[1].text: must not be empty")


def test_empty_list(folder):
    path = folder / "practices.yml"
    text = path.read_text("utf-8")
    head, _, _ = text.partition("get_together:")
    path.write_text(head + "get_together: []\n", encoding="utf-8")
    line = line_of(path, "get_together: []")
    assert_one_problem(folder, "practices.yml", line, "get_together: must list at least one")


def test_lists_may_grow(folder):
    path = folder / "practices.yml"
    replace_once(
        path,
        "mentee_practices:\n",
        "mentee_practices:\n  - id: mentee-keep-a-journal\n    text: Keep a journal.\n",
    )
    content = load_content(folder)
    assert len(content.mentee_practices) == 11
    assert content.practice("mentee-keep-a-journal").guidance is None


@pytest.mark.parametrize(
    "bad_id", ["Mentor-Curious", "-leading-hyphen", "with space", "snake_case"]
)
def test_malformed_practice_id(folder, bad_id):
    path = folder / "practices.yml"
    replace_once(path, "id: mentee-be-curious", f'id: "{bad_id}"')
    line = line_of(path, bad_id)
    assert_one_problem(folder, "practices.yml", line, f"id {bad_id!r} must use lowercase")


def test_duplicate_yaml_key(folder):
    path = folder / "messages.yml"
    first = line_of(path, "feedback_thanks:")
    path.write_text(path.read_text("utf-8") + "feedback_thanks: Thanks again!\n", "utf-8")
    last = len(path.read_text("utf-8").splitlines())
    assert_one_problem(
        folder, "messages.yml", last, f"duplicate key 'feedback_thanks' (first on line {first})"
    )


def test_unknown_placeholder(folder):
    path = folder / "messages.yml"
    replace_once(path, "{partner} shared feedback", "{partnr} shared feedback")
    line = line_of(path, "feedback_partner_notice:")
    assert_one_problem(
        folder,
        "messages.yml",
        line,
        "feedback_partner_notice: unknown placeholder {partnr}; this message accepts {partner}",
    )


@pytest.mark.parametrize("field", ["{mentee.__class__}", "{0}", "{}", "{mentee[0]}"])
def test_placeholder_reaching_into_values_is_refused(folder, field):
    path = folder / "messages.yml"
    replace_once(path, "  {mentee} shared what", f"  {field} shared what")
    line = line_of(path, "prep_shared_with_mentor:")
    assert_one_problem(folder, "messages.yml", line, "unknown placeholder")


def test_placeholder_with_formatting_is_refused(folder):
    path = folder / "messages.yml"
    replace_once(path, "{partner} shared feedback", "{partner!r} shared feedback")
    line = line_of(path, "feedback_partner_notice:")
    assert_one_problem(folder, "messages.yml", line, "write placeholders as plain {name}")


def test_placeholder_in_a_message_that_takes_none(folder):
    path = folder / "messages.yml"
    replace_once(path, "Thank you for your feedback!", "Thank you {partner}!")
    line = line_of(path, "feedback_thanks:")
    assert_one_problem(folder, "messages.yml", line, "this message takes no placeholders")


def test_invalid_format_syntax(folder):
    path = folder / "messages.yml"
    replace_once(path, "Thank you for your feedback!", "Thank you { for your feedback!")
    line = line_of(path, "feedback_thanks:")
    assert_one_problem(folder, "messages.yml", line, "feedback_thanks: invalid template")


def test_doubled_braces_are_literal(folder):
    path = folder / "messages.yml"
    replace_once(path, "Thank you for your feedback!", "Thank you {{for}} your feedback!")
    assert load_content(folder).message("feedback_thanks").startswith("Thank you {for} your")


def test_missing_message_key(folder):
    path = folder / "messages.yml"
    replace_once(path, "reschedule_prompt: >-", "# reschedule_prompt: >-")
    replace_once(path, "  No problem, plans change.", "#  No problem, plans change.")
    replace_once(path, "  didn't happen: press", "#  didn't happen: press")
    line = line_of(path, "invite_text:")  # the first key: where the mapping starts
    assert_one_problem(folder, "messages.yml", line, "missing required key 'reschedule_prompt'")


def test_unknown_message_key(folder):
    path = folder / "messages.yml"
    path.write_text(path.read_text("utf-8") + "welcome_bak: Hello!\n", "utf-8")
    line = line_of(path, "welcome_bak")
    assert_one_problem(folder, "messages.yml", line, "unknown key 'welcome_bak'")


def test_message_must_be_text(folder):
    path = folder / "messages.yml"
    replace_once(
        path,
        "feedback_thanks: >-\n"
        "  Thank you for your feedback! It helps make the program better for\n"
        "  everyone.\n",
        "feedback_thanks:\n",
    )
    line = line_of(path, "feedback_thanks:")
    assert_one_problem(folder, "messages.yml", line, "feedback_thanks: expected text")


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("prep_lead_hours: 24", "prep_lead_hours: 0", "between 1 and 168"),
        ("prep_lead_hours: 24", "prep_lead_hours: 169", "between 1 and 168"),
        ("feedback_delay_minutes: 60", "feedback_delay_minutes: -1", "between 0 and 1440"),
        ("feedback_delay_minutes: 60", "feedback_delay_minutes: 1441", "between 0 and 1440"),
        ("default_meeting_minutes: 45", "default_meeting_minutes: 14", "between 15 and 240"),
        ("default_meeting_minutes: 45", "default_meeting_minutes: 241", "between 15 and 240"),
        ('tip_time: "09:00"', 'tip_time: "24:00"', "24-hour time HH:MM"),
        ('tip_time: "09:00"', 'tip_time: "9am"', "24-hour time HH:MM"),
        ('tip_time: "09:00"', "tip_time: 900", "24-hour time HH:MM"),
        ("tip_days: [mon, tue, wed, thu, fri]", "tip_days: []", "at least one"),
        ("tip_days: [mon, tue, wed, thu, fri]", "tip_days: [mon, funday]", "'funday' is not"),
        ("tip_days: [mon, tue, wed, thu, fri]", "tip_days: mon", "expected a list"),
        ("tip_spread_minutes: 0", "tip_spread_minutes: 30", "between 0 and 29"),
        ("tip_spread_minutes: 0", "tip_spread_minutes: 1.5", "expected a whole number"),
        ("reschedule_when_fewer_than: 1", "reschedule_when_fewer_than: 4", "between 0 and 3"),
    ],
)
def test_setting_out_of_range(folder, old, new, fragment):
    path = folder / "settings.yml"
    replace_once(path, old, new)
    line = line_of(path, new)
    assert_one_problem(folder, "settings.yml", line, fragment)


def test_bad_item_in_a_block_list_points_at_the_item(folder):
    path = folder / "settings.yml"
    replace_once(path, "tip_days: [mon, tue, wed, thu, fri]", "tip_days:\n  - mon\n  - sunday\n")
    line = line_of(path, "- sunday")
    assert_one_problem(folder, "settings.yml", line, "tip_days[1]: 'sunday' is not a day")


def test_settings_at_their_limits(folder):
    path = folder / "settings.yml"
    replace_once(path, "feedback_delay_minutes: 60", "feedback_delay_minutes: 0")
    replace_once(path, "prep_lead_hours: 24", "prep_lead_hours: 168")
    replace_once(path, "tip_days: [mon, tue, wed, thu, fri]", "tip_days: [sun, Sat, mon, mon]")
    replace_once(path, "tip_spread_minutes: 0", "tip_spread_minutes: 29")
    replace_once(path, 'tip_time: "09:00"', 'tip_time: "23:59"')
    settings = load_content(folder).settings
    assert settings.feedback_delay == timedelta(0)
    assert settings.prep_lead == timedelta(days=7)
    assert settings.tip_days == frozenset({0, 5, 6})
    assert settings.tip_spread == timedelta(minutes=29)
    assert settings.tip_time == time(23, 59)


def test_unquoted_tip_time_is_read_as_a_time(folder):
    # YAML 1.1 would read a bare 10:30 as the number 630.
    replace_once(folder / "settings.yml", 'tip_time: "09:00"', "tip_time: 10:30")
    assert load_content(folder).settings.tip_time == time(10, 30)


def test_every_problem_in_every_file_is_reported_together(folder):
    replace_once(folder / "practices.yml", 'text: "Be curious."', 'text: ""')
    replace_once(folder / "practices.yml", "id: mentee-come-prepared", "id: Come_Prepared")
    replace_once(folder / "messages.yml", "{invitee} has declined", "{invitee has declined")
    replace_once(folder / "settings.yml", "tip_spread_minutes: 0", "tip_spread_minutes: 90")
    problems = problems_of(folder)
    assert [p.split(":", 1)[0] for p in problems] == [
        str(folder / "practices.yml"),
        str(folder / "practices.yml"),
        str(folder / "messages.yml"),
        str(folder / "settings.yml"),
    ]


def test_other_yaml_files_in_the_folder_are_ignored(folder):
    (folder / "notes.yml").write_text("not: [valid\n", encoding="utf-8")
    assert len(load_content(folder).mentor_practices) == 10


def test_unsafe_yaml_tags_are_refused(folder):
    path = folder / "settings.yml"
    replace_once(path, "prep_lead_hours: 24", "prep_lead_hours: !!python/object/apply:os.getcwd []")
    line = line_of(path, "prep_lead_hours")
    assert_one_problem(folder, "settings.yml", line, "YAML syntax error")


def test_non_utf8_file(folder):
    path = folder / "messages.yml"
    data = path.read_bytes().replace(b"Thank you for your feedback!", b"Danke sch\xf6n!")
    path.write_bytes(data)
    line = 1 + data[: data.index(b"\xf6")].count(b"\n")
    assert_one_problem(folder, "messages.yml", line, "not UTF-8 text")


def test_topics_load_and_duplicates_are_reported(folder):
    content = load_content(folder)
    assert content.topic_label("leadership") == "Leadership"
    assert len({t.id for t in content.topics}) == len(content.topics)
    path = folder / "topics.yml"
    first = line_of(path, "id: leadership")
    text = path.read_text()
    path.write_text(text + "  - id: leadership\n    label: Leading again\n")
    line = len(path.read_text().splitlines()) - 1
    problems = problems_of(folder)
    assert problems == [f"{path}:{line}: duplicate topic id 'leadership' (first on line {first})"]


def test_a_topic_id_too_long_for_a_menu_option_is_refused_and_a_long_label_warned(folder):
    # A topic is an option of the join modal's menu: its id is the option's value, at
    # most 150 characters (docs.slack.dev/reference/block-kit/composition-objects/
    # option-object), else the modal cannot be built; a label over 75 is cut, topics
    # past 100 left out: warnings, as content that ran before still runs.
    from bot.scheduling.render import content_fit

    path = folder / "topics.yml"
    replace_once(path, "id: leadership", "id: " + "l" * 151)
    assert_one_problem(folder, "topics.yml", line_of(path, "l" * 151), "at most 150")
    replace_once(path, "id: " + "l" * 151, "id: leadership")
    replace_once(path, "label: Leadership", "label: " + "L" * 76)
    extra = "".join(f"  - id: extra-{n}\n    label: Extra {n}\n" for n in range(101))
    path.write_text(path.read_text() + extra)
    fit = content_fit(load_content(folder))
    assert fit.errors == ()
    assert any(
        w.startswith(f"{path}:{line_of(path, 'id: leadership')}: warning: the label of topic")
        for w in fit.warnings
    ), fit.warnings
    assert any("so the sign-up form leaves out" in w for w in fit.warnings), fit.warnings


def test_a_join_modal_of_topics_past_every_limit_is_one_slack_accepts(folder):
    from bot.content import TOPIC_ID_MAX
    from bot.views.pool import MAX_TOPIC_OPTIONS, join_modal
    from slackemu.limits import validate_view

    rows = "".join(
        f"  - id: {'t' * (TOPIC_ID_MAX - 4)}{n:04d}\n    label: {'ü' * 90}\n"
        for n in range(MAX_TOPIC_OPTIONS + 5)
    )
    (folder / "topics.yml").write_text("topics:\n" + rows)
    topics = load_content(folder).topics
    assert len(topics) == MAX_TOPIC_OPTIONS + 5
    assert validate_view(join_modal(topics).to_dict()) == []


def test_calendar_copy_too_long_for_its_links_is_refused(folder):
    # 150 emoji are 150 characters but 1,800 once percent-encoded into the links: the
    # two links' url (at most 3,000) would not hold them beside the title.
    path = folder / "messages.yml"
    replace_once(path, "calendar_title: Mentoring meeting", "calendar_title: " + "🙂" * 150)
    assert_one_problem(
        folder,
        "messages.yml",
        line_of(path, "calendar_title:"),
        "takes 1800 characters once written into the add-to-calendar links",
    )


def test_copy_slack_would_cut_is_warned_and_copy_it_would_refuse_is_refused(folder):
    """Each section holds 3,000 characters (longer copy would be cut with "…": a
    warning) and a message's blocks about 11,000 in all (msg_blocks_too_long: the
    message would never be sent, so the folder is refused). The check builds the
    messages the copy goes into, with people's typed words at their longest, and names
    the message, the copy and its file:line."""
    from bot.scheduling.render import content_fit

    assert content_fit(load_content(folder)) == content_fit(load_content(folder))
    assert content_fit(load_content(folder)).errors == ()
    assert content_fit(load_content(folder)).warnings == ()
    path = folder / "practices.yml"
    step = '    text: "Get acquainted. Build the relationships first."'
    replace_once(path, step, step[:-1] + " Build the relationship first." * 110 + '"')
    fit = content_fit(load_content(folder))
    assert fit.errors == ()
    kickoff_line = line_of(folder / "messages.yml", "kickoff_greeting:")
    assert any(
        w.startswith(f"{folder / 'messages.yml'}:{kickoff_line}: warning: the kickoff would ")
        and "a part of 4,073 characters where Slack shows at most 3,000" in w
        and "get_together" in w
        for w in fit.warnings
    ), fit.warnings
    replace_once(path, " Build the relationship first." * 110, "")

    # Each part of the mentor's prep prompt fits 3,000; the whole is past the app's
    # 8,000 (a warning) and then past what Slack takes (refused).
    messages = folder / "messages.yml"
    replace_once(
        messages,
        "  what may help you make the most of it.",
        "  what may help you make the most of it. " + "Prepare well. " * 190,
    )
    fit = content_fit(load_content(folder))
    assert fit.errors == () and fit.warnings
    assert all("prep_mentor" in w and " 8," in w for w in fit.warnings), fit.warnings
    text = messages.read_text()
    for key in ("prep_first_meeting: >-\n", "prep_mentor: >-\n"):
        text = text.replace(key, key + "  " + "Prepare well. " * 200 + "\n", 1)
    messages.write_text(text)
    replace_once(  # a practice marked prep: true, its words past a section's 3,000
        path,
        '    text: "Establish two-way open communication."',
        '    text: "Establish two-way open communication.' + " Talk and listen." * 200 + '"',
    )
    fit = content_fit(load_content(folder))
    prep_line = line_of(messages, "prep_mentor:")
    assert any(
        e.startswith(f"{messages}:{prep_line}: the mentor's prep prompt before a first meeting ")
        and "so it would never be sent" in e
        for e in fit.errors
    ), fit.errors


def test_content_check_names_a_message_too_long_for_slack(folder):
    import subprocess
    import sys

    replace_once(
        folder / "messages.yml",
        "  *Mentor Bot* runs your mentoring relationship right here in Slack.",
        "  *Mentor Bot* runs your mentoring relationship right here in Slack." + " Help." * 500,
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # A cut is a warning: the check passes and says so, with the file and line.
    assert result.returncode == 0, result.stdout + result.stderr
    line = line_of(folder / "messages.yml", "help_text:")
    assert f"{folder / 'messages.yml'}:{line}: warning: the help would have a part of " in (
        result.stdout
    )
    assert "shorten messages.yml help_text" in result.stdout


def test_topics_file_is_optional(folder):
    (folder / "topics.yml").unlink()
    assert load_content(folder).topics == ()


def test_tip_order_tags_load_and_are_refused_on_the_agenda(folder, content):
    # The bundled content marks relationship-building and low-rating practices.
    for practices in (content.mentor_practices, content.mentee_practices):
        assert any(p.relationship for p in practices)
        assert any(p.after_low_rating for p in practices)
    assert not any(p.relationship or p.after_low_rating for p in content.get_together)
    path = folder / "practices.yml"
    replace_once(
        path,
        '    text: "Negotiate expectations and agreements."\n',
        '    text: "Negotiate expectations and agreements."\n    relationship: true\n',
    )
    line = line_of(path, "Negotiate expectations and agreements.") + 1
    assert_one_problem(folder, "practices.yml", line, "'relationship' orders daily tips")


def test_tip_order_tags_are_true_or_false(folder):
    path = folder / "practices.yml"
    replace_once(
        path,
        "    after_low_rating: true\n    prep: true\n    guidance: >-\n      Listen",
        "    after_low_rating: often\n    prep: true\n    guidance: >-\n      Listen",
    )
    line = line_of(path, "after_low_rating: often")
    problem = "mentor_practices[2].after_low_rating: expected true or false"
    assert_one_problem(folder, "practices.yml", line, problem)


# --- Coaching that adapts: goals, parked questions, care, calendar ----------------------

ADAPTIVE_KEYS = (
    "goals_modal_title",
    "goals_card_goal",
    "prep_goals",
    "prep_parked_questions",
    "care_nudge_missed",
    "checkin_prompt",
    "exit_partner_notice",
    "calendar_added",
)


@pytest.mark.parametrize("key", ADAPTIVE_KEYS)
def test_adaptive_coaching_copy_is_bundled(content, key):
    assert key in content.messages


def test_unknown_placeholder_in_a_goal_message(folder):
    path = folder / "messages.yml"
    replace_once(path, "{status} *{number}. {what}*", "{status} *{number}. {goal}*")
    line = line_of(path, "goals_card_goal:")
    assert_one_problem(
        folder,
        "messages.yml",
        line,
        "goals_card_goal: unknown placeholder {goal}; this message accepts {by_when}, "
        "{number}, {status}, {what}",
    )


def test_the_partner_notice_takes_no_reason(folder):
    # The partner is told kindly that the pairing ended, never why: no {reason} exists.
    path = folder / "messages.yml"
    replace_once(path, "always click, and it's nobody's fault.", "always click ({reason}).")
    line = line_of(path, "exit_partner_notice:")
    assert_one_problem(folder, "messages.yml", line, "unknown placeholder {reason}")


def test_missing_adaptive_message_key(folder):
    path = folder / "messages.yml"
    replace_once(path, "question_parked: >-", "question_parkd: >-")
    first = line_of(path, "invite_text:")
    problems = problems_of(folder)
    assert f"{path}:{first}: missing required key 'question_parked'" in problems
    assert any(
        p.startswith(f"{path}:{line_of(path, 'question_parkd:')}: unknown key") for p in problems
    )


def test_a_modal_title_over_slacks_limit_is_refused(folder):
    path = folder / "messages.yml"
    replace_once(path, "goals_modal_title: Set our goals", "goals_modal_title: " + "G" * 25)
    line = line_of(path, "goals_modal_title:")
    assert_one_problem(
        folder,
        "messages.yml",
        line,
        "is 25 characters long; Slack shows at most 24 in a modal title",
    )


def test_a_button_over_slacks_limit_is_refused(folder):
    path = folder / "messages.yml"
    replace_once(
        path,
        "care_schedule_button: Schedule our next meetings",
        "care_schedule_button: " + "b" * 76,
    )
    line = line_of(path, "care_schedule_button:")
    assert_one_problem(folder, "messages.yml", line, "at most 75 in a button")


def test_content_check_reports_adaptive_problems_with_file_and_line(folder):
    import subprocess
    import sys

    path = folder / "messages.yml"
    replace_once(path, "{count} more", "{total} more")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    line = line_of(path, "prep_parked_more:")
    assert (
        f"{path}:{line}: prep_parked_more: unknown placeholder {{total}}"
        in result.stdout + result.stderr
    )


def test_every_length_limited_message_exists_and_fits(content):
    from bot.content import MESSAGE_LIMITS

    for key, (limit, _) in MESSAGE_LIMITS.items():
        assert key in MESSAGE_PLACEHOLDERS and not MESSAGE_PLACEHOLDERS[key], key
        assert len(content.message(key)) <= limit, key


def test_copy_at_its_limits_still_makes_blocks_slack_accepts(content):
    """A coordinator's longest allowed copy: a button marked "✓ " stays within 75
    characters, and the add-to-calendar links within a button url's 3,000."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from bot.content import IN_CALENDAR_LINKS, MESSAGE_LIMITS
    from bot.domain.goals import GoalState
    from bot.views.calendar import calendar_event, calendar_links
    from bot.views.care import checkin_message
    from bot.views.common import as_dicts
    from bot.views.goals import goal_progress_blocks, goals_modal
    from slackemu.limits import validate_message_blocks, validate_view

    messages = dict(content.messages)
    for key, (limit, _) in MESSAGE_LIMITS.items():
        messages[key] = "ü" * limit
    for key in IN_CALENDAR_LINKS:  # the most that percent-encoding lets through: 4-byte
        messages[key] = "🙂" * (150 * 9 // 12)  # characters, 12 each once encoded
    longest = replace(content, messages=messages)
    assert validate_view(goals_modal(longest, pair_id=1).to_dict()) == []
    goal = GoalState(1, 1, "Goal", "", datetime(2027, 1, 1).date())
    for chosen in ("not_started", "some", "done"):
        blocks = goal_progress_blocks(
            longest, pair_id=1, meeting_id=2, goals=[goal], chosen={1: chosen}
        )
        assert validate_message_blocks(as_dicts(blocks)) == []
    checkin = checkin_message(longest, pair_id=1, partner_id="U1", not_working=True)
    assert validate_message_blocks(as_dicts(checkin.blocks)) == []
    event = calendar_event(
        longest,
        team_id="T1",
        meeting_id=99999,
        starts_at=datetime(2026, 3, 2, 17, tzinfo=UTC),
        minutes=45,
    )
    assert validate_message_blocks(as_dicts([calendar_links(longest, event)])) == []


def test_a_feedback_poll_whose_copy_slack_would_refuse_once_redrawn_is_refused(folder):
    """The mentee's poll with a progress row per goal carries the poll's copy, the
    goals' prompt and labels and the goals people type; redrawn after a tap it adds
    "Saved" and the thanks. With each piece of copy under a section's 3,000 it passed
    the check, and Slack refused the redrawn poll (msg_blocks_too_long)."""
    from bot.scheduling.render import content_fit

    messages = folder / "messages.yml"
    text = messages.read_text()
    for key in ("feedback_prompt: >-\n", "feedback_thanks: >-\n", "goals_progress_prompt: >-\n"):
        text = text.replace(key, key + "  " + "Please tell us. " * 180 + "\n", 1)
    for key in ("not_started: Not started", "some: Some progress", "done: Done"):
        label = key.split(": ")[0]
        text = text.replace(f"goals_progress_{key}", f"goals_progress_{label}: " + "L" * 70, 1)
    messages.write_text(text)
    fit = content_fit(load_content(folder))
    line = line_of(messages, "feedback_prompt:")
    assert any(
        e.startswith(f"{messages}:{line}: the feedback poll after an answer would carry ")
        and "so it would never be sent" in e
        for e in fit.errors
    ), fit.errors
