"""Block Kit limits as Slack's Web API enforces them, as a pure validator.

Each problem is reported the way Slack words it in ``invalid_blocks`` /
``invalid_arguments`` responses: a message followed by a JSON pointer, e.g.
``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``.

Only limits that make Slack *reject* a payload are checked; advisory ones
(e.g. "keep text under 4,000 characters") are not, so a payload that passes
here may still look poor, but a payload refused here would be refused by Slack.

Note on ids: Slack requires ``block_id`` to be unique within one message or
view, and ``action_id`` unique within its containing block (the same
``action_id`` in two different blocks is legal and common).
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_URL = 3_000
MAX_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_CALLBACK_ID = 255
MAX_PRIVATE_METADATA = 3_000
MAX_INPUT_LABEL = 2_000
MAX_INPUT_HINT = 2_000
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OVERFLOW_OPTIONS = 5
MAX_PLACEHOLDER = 150
MAX_IMAGE_ALT = 2_000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30

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

_TEXT_TYPES = {"plain_text", "mrkdwn"}


def _err(problems: list[str], message: str, pointer: str) -> None:
    problems.append(f"{message} [json-pointer:{pointer}]")


def _check_len(problems: list[str], value: Any, limit: int, pointer: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        _err(problems, f"must be less than {limit + 1} characters", pointer)


def _check_text(
    problems: list[str],
    obj: Any,
    pointer: str,
    limit: int,
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
    allowed = {"plain_text"} if plain_only else _TEXT_TYPES
    if kind not in allowed:
        _err(problems, f"must be one of {sorted(allowed)}", f"{pointer}/type")
    text = obj.get("text")
    if not isinstance(text, str):
        _err(problems, "must provide a string", f"{pointer}/text")
        return
    if not text:
        _err(problems, "must be more than 0 characters", f"{pointer}/text")
    _check_len(problems, text, limit, f"{pointer}/text")


def _check_confirm(problems: list[str], confirm: Any, pointer: str) -> None:
    if confirm is None:
        return
    if not isinstance(confirm, dict):
        _err(problems, "must be an object", pointer)
        return
    _check_text(
        problems, confirm.get("title"), f"{pointer}/title", MAX_CONFIRM_TITLE, plain_only=True
    )
    _check_text(problems, confirm.get("text"), f"{pointer}/text", MAX_CONFIRM_TEXT)
    _check_text(
        problems, confirm.get("confirm"), f"{pointer}/confirm", MAX_CONFIRM_BUTTON, plain_only=True
    )
    _check_text(
        problems, confirm.get("deny"), f"{pointer}/deny", MAX_CONFIRM_BUTTON, plain_only=True
    )


def _check_options(
    problems: list[str], options: Any, pointer: str, *, max_items: int, min_items: int = 1
) -> None:
    if not isinstance(options, list):
        _err(problems, "must provide an array", pointer)
        return
    if len(options) < min_items:
        _err(problems, f"must provide at least {min_items} items", pointer)
    if len(options) > max_items:
        _err(problems, f"must provide no more than {max_items} items", pointer)
    for i, opt in enumerate(options):
        p = f"{pointer}/{i}"
        if not isinstance(opt, dict):
            _err(problems, "must be an object", p)
            continue
        # Radio buttons and checkboxes accept mrkdwn option text; selects do not.
        _check_text(problems, opt.get("text"), f"{p}/text", MAX_OPTION_TEXT)
        _check_len(problems, opt.get("value"), MAX_OPTION_VALUE, f"{p}/value")


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
        if style is not None and style not in ("primary", "danger"):
            _err(problems, "must be one of primary, danger", f"{pointer}/style")
    elif kind in ("static_select", "multi_static_select"):
        if "option_groups" in el:
            groups = el["option_groups"]
            if not isinstance(groups, list) or len(groups) > MAX_OPTIONS:
                _err(
                    problems,
                    f"must provide no more than {MAX_OPTIONS} items",
                    f"{pointer}/option_groups",
                )
            else:
                for gi, group in enumerate(groups):
                    opts = group.get("options") if isinstance(group, dict) else None
                    _check_options(
                        problems,
                        opts,
                        f"{pointer}/option_groups/{gi}/options",
                        max_items=MAX_OPTIONS,
                    )
        else:
            _check_options(problems, el.get("options"), f"{pointer}/options", max_items=MAX_OPTIONS)
    elif kind in ("radio_buttons", "checkboxes"):
        _check_options(problems, el.get("options"), f"{pointer}/options", max_items=10)
    elif kind == "overflow":
        _check_options(
            problems,
            el.get("options"),
            f"{pointer}/options",
            max_items=MAX_OVERFLOW_OPTIONS,
            min_items=1,
        )
    elif kind == "image":
        _check_len(problems, el.get("alt_text"), MAX_IMAGE_ALT, f"{pointer}/alt_text")


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
                    _check_text(problems, el, f"{pointer}/elements/{i}", MAX_SECTION_TEXT)
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
        if not isinstance(block.get("element"), dict):
            _err(problems, "must provide an object", f"{pointer}/element")
        else:
            _check_element(problems, block["element"], f"{pointer}/element", actions)
    elif kind == "image":
        _check_len(problems, block.get("alt_text"), MAX_IMAGE_ALT, f"{pointer}/alt_text")
        _check_len(problems, block.get("image_url"), MAX_URL, f"{pointer}/image_url")


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


def validate_message_text(text: Any) -> list[str]:
    problems: list[str] = []
    _check_len(problems, text, MAX_MESSAGE_TEXT, "/text")
    return problems


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
    _check_len(problems, view.get("external_id"), MAX_ID, "/view/external_id")
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


__all__ = ["validate_message_blocks", "validate_message_text", "validate_view"]
