"""Block Kit limits as Slack's Web API enforces them, as a pure validator.

Each problem is reported the way Slack words it in ``invalid_blocks`` /
``invalid_arguments`` responses: a message followed by a JSON pointer, e.g.
``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``.

Only limits that make Slack *reject* a payload are checked; advisory ones
(e.g. "keep text under 4,000 characters") are not, so a payload that passes
here may still look poor, but a payload refused here would be refused by Slack.

Every limit cites its source next to the constant: a page of Slack's reference
at https://docs.slack.dev and, where it encodes the same figure, slack_sdk's
own validators (``slack_sdk/models/blocks/*.py`` and
``slack_sdk/models/views/__init__.py`` in slackapi/python-slack-sdk). The
server applies these checks to chat.postMessage/postEphemeral/update, to
views.open/push/update/publish, to views returned in a view submission's
``response_action``, to response-URL bodies and to slash commands' answers.

Note on ids: Slack requires ``block_id`` to be unique within one message or
view, and ``action_id`` unique within its containing block (the same
``action_id`` in two different blocks is legal and common).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

# Each constant cites Slack's reference page (BK = https://docs.slack.dev/reference/block-kit)
# and, where it encodes the same figure, slack_sdk's validator (sdk: ...).

# --------------------------------------------------------------------- surfaces
# "You can include up to 50 blocks in each message, and 100 blocks in modals or
# Home tabs." -- BK/blocks
MAX_MESSAGE_BLOCKS = 50
# Modal/Home views: "Max of 100 blocks"; title "plain_text ... max length of 24
# characters"; close/submit "Max length of 24 characters"; private_metadata "Max
# length of 3000 characters"; callback_id "Max length of 255 characters" --
# https://docs.slack.dev/reference/views/modal-views (and .../views/home-tab-views);
# sdk View.blocks_max_length, title_max_length, submit_max_length, ...
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_CALLBACK_ID = 255
MAX_PRIVATE_METADATA = 3_000
MAX_EXTERNAL_ID = 255  # the id limit of callback_id; sdk: not checked
# chat.postMessage: error msg_too_long; "truncate messages containing more than
# 40,000 characters" -- https://docs.slack.dev/reference/methods/chat.postMessage
MAX_MESSAGE_TEXT = 40_000
# chat.postMessage refuses a message whose blocks carry too much text in all, with
# msg_blocks_too_long. The figure is not documented: slackapi/bolt-js#2509 met it at
# about 13,200 characters (a Slack engineer there: "12,000 text characters with a buffer
# for block containers"), and bolt-js#2867 at 11,341 characters summed over every
# ``text`` string. In doubt the emulator refuses from 11,000 on.
MAX_BLOCKS_TEXT = 11_000

# ------------------------------------------------------------------ text object
# "The minimum length is 1 and maximum length is 3000 characters"; emoji "only
# usable when type is plain_text", verbatim "only usable when type is mrkdwn"
# -- BK/composition-objects/text-object
MAX_TEXT_OBJECT = 3_000

# ----------------------------------------------------------------------- blocks
# Section: text "Minimum length ... is 1 and maximum length is 3000"; fields
# "Maximum number of items is 10. Maximum length for the text in each item is
# 2000" -- BK/blocks/section-block; sdk SectionBlock.text_max_length, fields_max_length
MAX_SECTION_TEXT = 3_000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2_000
# Header: plain_text, "Maximum length for the text in this field is 150
# characters" -- BK/blocks/header-block; sdk HeaderBlock.text_max_length
MAX_HEADER_TEXT = 150
# Context: "Maximum number of items is 10" -- BK/blocks/context-block;
# sdk ContextBlock.elements_max_length
MAX_CONTEXT_ELEMENTS = 10
# Actions: "There is a maximum of 25 elements in each action block" --
# BK/blocks/actions-block; sdk ActionsBlock.elements_max_length
MAX_ACTIONS_ELEMENTS = 25
# Input: label and hint "must have type of plain_text. Maximum length ... 2000
# characters"; element "Required" -- BK/blocks/input-block; sdk InputBlock
MAX_INPUT_LABEL = 2_000
MAX_INPUT_HINT = 2_000
# block_id, action_id: "Maximum length for this field is 255 characters"; block_id
# unique per message or view, action_id "unique among all other action_ids in the
# containing block" -- every block and element page, e.g. BK/blocks/section-block;
# sdk Block.block_id_max_length, InteractiveElement.action_id_max_length
MAX_ID = 255
# Image: image_url 3000, alt_text 2000, title (plain_text) 2000 --
# BK/blocks/image-block, BK/block-elements/image-element; sdk ImageBlock
MAX_IMAGE_ALT = 2_000
MAX_IMAGE_TITLE = 2_000

# --------------------------------------------------------------------- elements
# Button: text plain_text "Maximum length ... 75", value "... 2000", url
# "... 3000", style "primary" or "danger" -- BK/block-elements/button-element;
# sdk ButtonElement.text_max_length, value_max_length, url_max_length
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_URL = 3_000
BUTTON_STYLES = ("primary", "danger")
# Placeholder of every input element: "plain_text only ... Maximum length for
# the text in this field is 150 characters" -- e.g. BK/block-elements/select-menu-element;
# sdk InputInteractiveElement.placeholder_max_length
MAX_PLACEHOLDER = 150
# Static (multi-)select: options "Maximum number of options is 100",
# option_groups "Maximum number of option groups is 100", "If option_groups is
# specified, this field should not be"; initial_option(s) "exactly matches" the
# options -- BK/block-elements/select-menu-element, .../multi-select-menu-element;
# sdk StaticSelectElement.options_max_length, "options and option_groups cannot
# both be specified", "options or option_groups must be specified"
MAX_OPTIONS = 100
MAX_OPTION_GROUPS = 100
# Option group label: plain_text, "Maximum length ... 75" --
# BK/composition-objects/option-group-object; sdk OptionGroup.label_max_length
MAX_OPTION_GROUP_LABEL = 75
# Multi-selects: max_selected_items "Minimum number is 1" --
# BK/block-elements/multi-select-menu-element
MIN_MAX_SELECTED_ITEMS = 1
# Checkboxes, radio buttons: "A maximum of 10 options are allowed";
# initial_option(s) "exactly matches one [or more] of the options" --
# BK/block-elements/checkboxes-element, BK/block-elements/radio-button-group-element
MAX_CHOICE_OPTIONS = 10
# Overflow: "Maximum number of options is 5, minimum is 1" --
# BK/block-elements/overflow-menu-element; sdk OverflowMenuElement.options_max_length
MAX_OVERFLOW_OPTIONS = 5
# Plain-text input: min_length "between 0 and 3000, inclusive", max_length
# "between 1 and 3000, inclusive" -- BK/block-elements/plain-text-input-element.
# An initial_value longer than max_length (or 3000) could never be submitted.
MAX_TEXT_INPUT = 3_000
# Number input: is_decimal_allowed "Required"; min_value "cannot be greater than
# max_value" -- BK/block-elements/number-input-element; sdk NumberInputElement
# Pickers: initial_date "format YYYY-MM-DD" (BK/block-elements/date-picker-element),
# initial_time "format HH:mm" (BK/block-elements/time-picker-element),
# initial_date_time "UNIX timestamp in seconds ... 10 digits"
# (BK/block-elements/datetime-picker-element); sdk DatePickerElement,
# TimePickerElement, DateTimePickerElement validators
_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_DATETIME = 9_999_999_999

# ------------------------------------------------------------ composition objects
# Option: text "Overflow, select, and multi-select menus can only use plain_text
# objects, while radio buttons and checkboxes can use mrkdwn ... Maximum length
# ... 75"; value "Required ... Maximum length ... 150"; description "plain_text
# ... Checkbox group and radio button group items can also use mrkdwn ...
# Maximum length ... 75"; url "only available in overflow menus. Maximum length
# ... 3000" -- BK/composition-objects/option-object; sdk Option.label_max_length,
# value_max_length (the sdk does not check description: a 150-character
# description passes slack_sdk and is refused by Slack)
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTION_DESCRIPTION = 75
# Confirmation dialog: title, text, confirm, deny are each "A plain_text text
# object", of at most 100, 300, 30 and 30 characters; style "danger" or
# "primary" -- BK/composition-objects/confirmation-dialog-object; sdk
# ConfirmObject.*_max_length, _validate_confirm_style
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
CONFIRM_STYLES = ("primary", "danger")

KNOWN_BLOCKS = {
    "actions",
    "context",
    "context_actions",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "table",
    "video",
}

# Elements an input block holds -- BK/blocks/input-block ("See above for full list").
INPUT_ELEMENTS = {
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "email_text_input",
    "file_input",
    "multi_channels_select",
    "multi_conversations_select",
    "multi_external_select",
    "multi_static_select",
    "multi_users_select",
    "number_input",
    "plain_text_input",
    "radio_buttons",
    "rich_text_input",
    "channels_select",
    "conversations_select",
    "external_select",
    "static_select",
    "users_select",
    "timepicker",
    "url_text_input",
}

_TEXT_TYPES = {"plain_text", "mrkdwn"}
_PLAIN = {"plain_text"}


def _err(problems: list[str], message: str, pointer: str) -> None:
    problems.append(f"{message} [json-pointer:{pointer}]")


def _check_len(problems: list[str], value: Any, limit: int, pointer: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        _err(problems, f"must be less than {limit + 1} characters", pointer)


def _check_text(
    problems: list[str],
    obj: Any,
    pointer: str,
    limit: int = MAX_TEXT_OBJECT,
    *,
    plain_only: bool = False,
    required: bool = True,
) -> None:
    if obj is None:
        if required:
            _err(problems, "must provide an object", pointer)
        return
    if not isinstance(obj, dict):
        _err(problems, "must be an object", pointer)
        return
    kind = obj.get("type")
    allowed = _PLAIN if plain_only else _TEXT_TYPES
    if kind not in allowed:
        _err(problems, f"must be one of {sorted(allowed)}", f"{pointer}/type")
    if "emoji" in obj and kind != "plain_text":
        _err(problems, "emoji is only allowed on plain_text", f"{pointer}/emoji")
    if "verbatim" in obj and kind != "mrkdwn":
        _err(problems, "verbatim is only allowed on mrkdwn", f"{pointer}/verbatim")
    text = obj.get("text")
    if not isinstance(text, str):
        _err(problems, "must provide a string", f"{pointer}/text")
        return
    if not text:
        _err(problems, "must be more than 0 characters", f"{pointer}/text")
    _check_len(problems, text, min(limit, MAX_TEXT_OBJECT), f"{pointer}/text")


def _check_confirm(problems: list[str], confirm: Any, pointer: str) -> None:
    if confirm is None:
        return
    if not isinstance(confirm, dict):
        _err(problems, "must be an object", pointer)
        return
    for key, limit in (
        ("title", MAX_CONFIRM_TITLE),
        ("text", MAX_CONFIRM_TEXT),
        ("confirm", MAX_CONFIRM_BUTTON),
        ("deny", MAX_CONFIRM_BUTTON),
    ):
        _check_text(problems, confirm.get(key), f"{pointer}/{key}", limit, plain_only=True)
    style = confirm.get("style")
    if style is not None and style not in CONFIRM_STYLES:
        _err(problems, "must be one of primary, danger", f"{pointer}/style")


def _check_option(problems: list[str], opt: Any, pointer: str, kind: str) -> None:
    if not isinstance(opt, dict):
        _err(problems, "must be an object", pointer)
        return
    # Radio buttons and checkboxes accept mrkdwn option text; selects and overflow do not.
    plain_only = kind not in ("radio_buttons", "checkboxes")
    _check_text(
        problems, opt.get("text"), f"{pointer}/text", MAX_OPTION_TEXT, plain_only=plain_only
    )
    value = opt.get("value")
    if not isinstance(value, str) or not value:
        _err(problems, "must provide a string", f"{pointer}/value")
    else:
        _check_len(problems, value, MAX_OPTION_VALUE, f"{pointer}/value")
    if "description" in opt:
        _check_text(
            problems,
            opt.get("description"),
            f"{pointer}/description",
            MAX_OPTION_DESCRIPTION,
            plain_only=plain_only,
        )
    if "url" in opt:
        if kind != "overflow":
            _err(problems, "url is only allowed on overflow menu options", f"{pointer}/url")
        _check_len(problems, opt.get("url"), MAX_URL, f"{pointer}/url")


def _option_key(opt: Any) -> tuple[Any, Any, Any] | None:
    """What "exactly matches" compares: the value and the text as shown."""
    if not isinstance(opt, dict):
        return None
    text = opt.get("text") if isinstance(opt.get("text"), dict) else {}
    return opt.get("value"), text.get("type"), text.get("text")


def _check_options(
    problems: list[str],
    options: Any,
    pointer: str,
    kind: str,
    *,
    max_items: int,
    min_items: int = 1,
) -> list[Any]:
    if not isinstance(options, list):
        _err(problems, "must provide an array", pointer)
        return []
    if len(options) < min_items:
        _err(problems, f"must provide at least {min_items} items", pointer)
    if len(options) > max_items:
        _err(problems, f"must provide no more than {max_items} items", pointer)
    for i, opt in enumerate(options):
        _check_option(problems, opt, f"{pointer}/{i}", kind)
    return options


def _check_initial(
    problems: list[str], el: dict, pointer: str, options: list[Any], *, multi: bool
) -> None:
    """``initial_option(s)`` must exactly match options of the element."""
    known = {_option_key(o) for o in options}
    key = "initial_options" if multi else "initial_option"
    if key not in el or el[key] is None:
        return
    chosen = el[key]
    if multi:
        if not isinstance(chosen, list):
            _err(problems, "must provide an array", f"{pointer}/{key}")
            return
        items = list(enumerate(chosen))
    else:
        items = [(None, chosen)]
    for i, opt in items:
        p = f"{pointer}/{key}" + ("" if i is None else f"/{i}")
        if _option_key(opt) not in known:
            _err(problems, "must exactly match one of the options", p)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _check_number_input(problems: list[str], el: dict, pointer: str) -> None:
    decimal = el.get("is_decimal_allowed")
    if not isinstance(decimal, bool):
        _err(problems, "must provide a boolean", f"{pointer}/is_decimal_allowed")
    bounds: dict[str, Decimal] = {}
    for key in ("min_value", "max_value", "initial_value"):
        if el.get(key) is None:
            continue
        number = _number(el[key])
        if number is None or not number.is_finite():
            _err(problems, "must be a number", f"{pointer}/{key}")
            continue
        if decimal is False and number != number.to_integral_value():
            _err(problems, "must be a whole number unless is_decimal_allowed", f"{pointer}/{key}")
        bounds[key] = number
    if (
        "min_value" in bounds
        and "max_value" in bounds
        and bounds["min_value"] > bounds["max_value"]
    ):
        _err(problems, "min_value cannot be greater than max_value", f"{pointer}/min_value")


def _check_text_input(problems: list[str], el: dict, pointer: str) -> None:
    lengths: dict[str, int] = {}
    for key, low in (("min_length", 0), ("max_length", 1)):
        if el.get(key) is None:
            continue
        value = el[key]
        if isinstance(value, bool) or not isinstance(value, int):
            _err(problems, "must be an integer", f"{pointer}/{key}")
        elif not low <= value <= MAX_TEXT_INPUT:
            _err(problems, f"must be between {low} and {MAX_TEXT_INPUT}", f"{pointer}/{key}")
        else:
            lengths[key] = value
    if "min_length" in lengths and "max_length" in lengths:
        if lengths["min_length"] > lengths["max_length"]:
            _err(problems, "min_length cannot be greater than max_length", f"{pointer}/min_length")
    initial = el.get("initial_value")
    if initial is not None:
        if not isinstance(initial, str):
            _err(problems, "must provide a string", f"{pointer}/initial_value")
        else:
            _check_len(
                problems,
                initial,
                lengths.get("max_length", MAX_TEXT_INPUT),
                f"{pointer}/initial_value",
            )


def _check_element(problems: list[str], el: Any, pointer: str, seen_actions: set[str]) -> None:
    if not isinstance(el, dict):
        _err(problems, "must be an object", pointer)
        return
    kind = el.get("type")
    action_id = el.get("action_id")
    if action_id is not None:
        if not isinstance(action_id, str) or not action_id:
            _err(problems, "must be a non-empty string", f"{pointer}/action_id")
        else:
            _check_len(problems, action_id, MAX_ID, f"{pointer}/action_id")
            if action_id in seen_actions:
                _err(problems, f"duplicate action_id: {action_id}", f"{pointer}/action_id")
            seen_actions.add(action_id)
    _check_confirm(problems, el.get("confirm"), f"{pointer}/confirm")
    if "placeholder" in el:
        _check_text(
            problems,
            el.get("placeholder"),
            f"{pointer}/placeholder",
            MAX_PLACEHOLDER,
            plain_only=True,
        )
    if kind == "button":
        _check_text(problems, el.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, plain_only=True)
        _check_len(problems, el.get("value"), MAX_BUTTON_VALUE, f"{pointer}/value")
        _check_len(problems, el.get("url"), MAX_URL, f"{pointer}/url")
        style = el.get("style")
        if style is not None and style not in BUTTON_STYLES:
            _err(problems, "must be one of primary, danger", f"{pointer}/style")
    elif kind in ("static_select", "multi_static_select"):
        multi = kind == "multi_static_select"
        has_options, has_groups = "options" in el, "option_groups" in el
        if has_options == has_groups:
            _err(problems, "must provide exactly one of options, option_groups", pointer)
        options: list[Any] = []
        if has_groups:
            groups = el["option_groups"]
            if not isinstance(groups, list) or not groups:
                _err(problems, "must provide at least 1 items", f"{pointer}/option_groups")
            else:
                if len(groups) > MAX_OPTION_GROUPS:
                    _err(
                        problems,
                        f"must provide no more than {MAX_OPTION_GROUPS} items",
                        f"{pointer}/option_groups",
                    )
                for gi, group in enumerate(groups):
                    gp = f"{pointer}/option_groups/{gi}"
                    if not isinstance(group, dict):
                        _err(problems, "must be an object", gp)
                        continue
                    _check_text(
                        problems,
                        group.get("label"),
                        f"{gp}/label",
                        MAX_OPTION_GROUP_LABEL,
                        plain_only=True,
                    )
                    options += _check_options(
                        problems, group.get("options"), f"{gp}/options", kind, max_items=MAX_OPTIONS
                    )
        elif has_options:
            options = _check_options(
                problems, el.get("options"), f"{pointer}/options", kind, max_items=MAX_OPTIONS
            )
        _check_initial(problems, el, pointer, options, multi=multi)
        if multi and el.get("max_selected_items") is not None:
            most = el["max_selected_items"]
            if isinstance(most, bool) or not isinstance(most, int) or most < MIN_MAX_SELECTED_ITEMS:
                _err(
                    problems,
                    f"must be at least {MIN_MAX_SELECTED_ITEMS}",
                    f"{pointer}/max_selected_items",
                )
    elif kind in ("radio_buttons", "checkboxes"):
        options = _check_options(
            problems, el.get("options"), f"{pointer}/options", kind, max_items=MAX_CHOICE_OPTIONS
        )
        _check_initial(problems, el, pointer, options, multi=kind == "checkboxes")
    elif kind == "overflow":
        _check_options(
            problems,
            el.get("options"),
            f"{pointer}/options",
            kind,
            max_items=MAX_OVERFLOW_OPTIONS,
            min_items=1,
        )
    elif kind == "plain_text_input":
        _check_text_input(problems, el, pointer)
    elif kind == "number_input":
        _check_number_input(problems, el, pointer)
    elif kind == "datepicker":
        initial = el.get("initial_date")
        if initial is not None and not (isinstance(initial, str) and _DATE.match(initial)):
            _err(problems, "must be in the format YYYY-MM-DD", f"{pointer}/initial_date")
    elif kind == "timepicker":
        initial = el.get("initial_time")
        if initial is not None and not (isinstance(initial, str) and _TIME.match(initial)):
            _err(problems, "must be in the format HH:mm", f"{pointer}/initial_time")
    elif kind == "datetimepicker":
        initial = el.get("initial_date_time")
        if initial is not None and (
            isinstance(initial, bool)
            or not isinstance(initial, int)
            or not 0 <= initial <= MAX_DATETIME
        ):
            _err(
                problems,
                "must be a UNIX timestamp in seconds (10 digits)",
                f"{pointer}/initial_date_time",
            )
    elif kind == "image":
        _check_len(problems, el.get("alt_text"), MAX_IMAGE_ALT, f"{pointer}/alt_text")
        _check_len(problems, el.get("image_url"), MAX_URL, f"{pointer}/image_url")


def _check_block(
    problems: list[str],
    block: Any,
    pointer: str,
    surface: str,
    seen_blocks: set[str],
) -> None:
    if not isinstance(block, dict):
        _err(problems, "must be an object", pointer)
        return
    kind = block.get("type")
    if kind not in KNOWN_BLOCKS:
        _err(problems, f"unsupported type: {kind}", f"{pointer}/type")
        return
    block_id = block.get("block_id")
    if block_id is not None:
        if not isinstance(block_id, str) or not block_id:
            _err(problems, "must be a non-empty string", f"{pointer}/block_id")
        else:
            _check_len(problems, block_id, MAX_ID, f"{pointer}/block_id")
            if block_id in seen_blocks:
                _err(problems, f"duplicate block_id: {block_id}", f"{pointer}/block_id")
            seen_blocks.add(block_id)
    actions: set[str] = set()
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            _err(problems, "must provide either text or fields", pointer)
        if text is not None:
            _check_text(problems, text, f"{pointer}/text", MAX_SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list):
                _err(problems, "must provide an array", f"{pointer}/fields")
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    _err(
                        problems,
                        f"must provide no more than {MAX_SECTION_FIELDS} items",
                        f"{pointer}/fields",
                    )
                for i, field in enumerate(fields):
                    _check_text(problems, field, f"{pointer}/fields/{i}", MAX_SECTION_FIELD_TEXT)
        if block.get("accessory") is not None:
            _check_element(problems, block["accessory"], f"{pointer}/accessory", actions)
    elif kind == "header":
        _check_text(
            problems, block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_only=True
        )
    elif kind in ("actions", "context"):
        limit = MAX_ACTIONS_ELEMENTS if kind == "actions" else MAX_CONTEXT_ELEMENTS
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            _err(problems, "must provide at least 1 items", f"{pointer}/elements")
            return
        if len(elements) > limit:
            _err(problems, f"must provide no more than {limit} items", f"{pointer}/elements")
        for i, el in enumerate(elements):
            if kind == "context":
                if isinstance(el, dict) and el.get("type") in _TEXT_TYPES:
                    _check_text(problems, el, f"{pointer}/elements/{i}")
                elif isinstance(el, dict) and el.get("type") == "image":
                    _check_len(
                        problems,
                        el.get("alt_text"),
                        MAX_IMAGE_ALT,
                        f"{pointer}/elements/{i}/alt_text",
                    )
                else:
                    _err(problems, "must be a text or image element", f"{pointer}/elements/{i}")
            else:
                _check_element(problems, el, f"{pointer}/elements/{i}", actions)
    elif kind == "input":
        if surface == "message" and not block.get("dispatch_action"):
            _err(
                problems, "input blocks are only allowed in modals and Home tabs", f"{pointer}/type"
            )
        _check_text(
            problems, block.get("label"), f"{pointer}/label", MAX_INPUT_LABEL, plain_only=True
        )
        if "hint" in block:
            _check_text(
                problems, block.get("hint"), f"{pointer}/hint", MAX_INPUT_HINT, plain_only=True
            )
        element = block.get("element")
        if not isinstance(element, dict):
            _err(problems, "must provide an object", f"{pointer}/element")
        else:
            if element.get("type") not in INPUT_ELEMENTS:
                _err(
                    problems,
                    f"unsupported type in an input block: {element.get('type')}",
                    f"{pointer}/element/type",
                )
            _check_element(problems, element, f"{pointer}/element", actions)
    elif kind == "image":
        _check_len(problems, block.get("alt_text"), MAX_IMAGE_ALT, f"{pointer}/alt_text")
        _check_len(problems, block.get("image_url"), MAX_URL, f"{pointer}/image_url")
        if block.get("title") is not None:
            _check_text(
                problems, block["title"], f"{pointer}/title", MAX_IMAGE_TITLE, plain_only=True
            )


def _check_blocks(
    problems: list[str], blocks: Any, pointer: str, surface: str, max_blocks: int
) -> None:
    if not isinstance(blocks, list):
        _err(problems, "must provide an array", pointer)
        return
    if len(blocks) > max_blocks:
        _err(problems, f"must provide no more than {max_blocks} items", pointer)
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        _check_block(problems, block, f"{pointer}/{i}", surface, seen)


def validate_message_blocks(blocks: Any) -> list[str]:
    """Problems Slack would report for ``blocks`` of a message; empty when valid."""
    problems: list[str] = []
    if blocks is None:
        return problems
    _check_blocks(problems, blocks, "/blocks", "message", MAX_MESSAGE_BLOCKS)
    return problems


def blocks_text_length(blocks: Any) -> int:
    """Characters of every ``text`` string in ``blocks`` (what msg_blocks_too_long counts,
    as far as anyone outside Slack has measured it)."""
    if isinstance(blocks, dict):
        return sum(
            len(value) if key == "text" and isinstance(value, str) else blocks_text_length(value)
            for key, value in blocks.items()
        )
    if isinstance(blocks, list):
        return sum(blocks_text_length(item) for item in blocks)
    return 0


def validate_message_text(text: Any) -> list[str]:
    problems: list[str] = []
    _check_len(problems, text, MAX_MESSAGE_TEXT, "/text")
    return problems


# views.open/update/push/publish: "view_too_large": "the provided view is greater than
# 250kb" (slack-ruby/slack-api-ref, methods/views/views.update.json). Read strictly:
# 250,000 bytes of the view's JSON as a client sends it (json.dumps, spaces included).
MAX_VIEW_BYTES = 250_000


def view_too_large(view: Any) -> bool:
    return len(json.dumps(view).encode()) > MAX_VIEW_BYTES


def validate_view(view: Any) -> list[str]:
    """Problems Slack would report for a modal or Home tab view; empty when valid."""
    problems: list[str] = []
    if not isinstance(view, dict):
        _err(problems, "must provide an object", "/view")
        return problems
    kind = view.get("type")
    if kind not in ("modal", "home"):
        _err(problems, "must be one of modal, home", "/view/type")
        return problems
    blocks = view.get("blocks")
    _check_blocks(problems, blocks, "/view/blocks", kind, MAX_VIEW_BLOCKS)
    _check_len(problems, view.get("callback_id"), MAX_CALLBACK_ID, "/view/callback_id")
    _check_len(problems, view.get("external_id"), MAX_EXTERNAL_ID, "/view/external_id")
    _check_len(
        problems, view.get("private_metadata"), MAX_PRIVATE_METADATA, "/view/private_metadata"
    )
    if kind == "modal":
        _check_text(problems, view.get("title"), "/view/title", MAX_VIEW_TITLE, plain_only=True)
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        for key in ("submit", "close"):
            if key in view and view[key] is not None:
                _check_text(problems, view[key], f"/view/{key}", MAX_VIEW_BUTTON, plain_only=True)
        if has_input and not view.get("submit"):
            _err(problems, "submit is required when blocks contain an input", "/view/submit")
    return problems


__all__ = [
    "validate_message_blocks",
    "validate_message_text",
    "validate_view",
    "view_too_large",
]
