"""One path for every side effect: listener → service (one transaction: the change and
its messages as outbox rows) → commit → ack → sender (claim → render → Slack → mark sent).
"""

# README "Delivery guarantees", sentence by sentence, and the test that proves each.
# (S = tests/scenario, U = tests/unit; "after_ack" = S/test_one_path_after_ack.py.)
#
# Intro: everything the bot says goes through the outbox, interactive answers too
#   S/test_one_path.py::test_a_use_case_is_committed_with_its_messages_before_the_ack;
#   Home, Cancel, the match review, forget-me's DM: after_ack::
#   test_app_home_refreshes_are_outbox_rows_and_a_burst_collapses,
#   test_a_cancel_button_takes_its_question_away_through_the_outbox,
#   test_match_opens_its_modal_at_once_and_the_review_follows_from_the_outbox,
#   test_forget_me_without_a_response_url_answers_by_dm_and_keeps_no_row
# Committed before the ack
#   - one transaction, change + rows, then the 200, then the sender:
#     test_a_use_case_is_committed_with_its_messages_before_the_ack
#   - SIGKILL after a burst of acks loses no invitation:
#     S/test_crash.py::test_sigkill_after_a_burst_of_acks_loses_no_invitation
#   - no request calls Slack before its ack: the strict driver checks every request
#     (slackemu/driver.py); test_a_use_case_is_committed..., after_ack (Home, Cancel),
#     S/test_lifecycle.py::test_oauth_requests_call_slack_not_once_before_their_ack
#   - SQLite's group commit; a refusal undoes only its own request: U/test_store_fast_paths.py::
#     test_requests_queued_for_sqlites_writer_are_committed_together,
#     test_a_refusal_in_a_group_undoes_its_own_writes_and_none_of_the_others,
#     test_a_unit_whose_writes_fail_at_the_flush_is_blamed_for_them_alone
# No half-made states
#   - the invitation asks users.info first; refused: pair deleted, inviter told:
#     test_an_invitee_slack_refuses_withdraws_the_pair_in_the_sender
#   - in a burst past users.info, at once; Slack refuses the bot, same words; the zone
#     read before the first tip: S/test_invitation_burst.py::
#     test_a_burst_past_users_info_goes_at_once_and_slack_still_refuses_a_bot
#   - active with no group DM and a pending kickoff; transient failures retried until
#     it exists: test_the_group_dm_waits_for_a_kickoff_slack_refused_then_everything_...
#   - refused because of a member (opening, or posting in it): failed, pair ended,
#     waiting rows and meetings cancelled, both told: after_ack::
#     test_a_kickoff_slack_refuses_in_the_group_dm_ends_the_pair_and_tells_both,
#     test_a_kickoff_whose_group_dm_slack_refuses_to_open_ends_the_pair_the_same_way
#   - group DM messages wait and follow in order, never to a DM: test_the_group_dm_waits...
#   - a coordinator's request is checked by its delivery: S/test_surfaces.py::
#     test_a_coordinator_check_that_needs_slack_happens_after_the_ack, S/test_program.py::
#     test_match_is_for_coordinators_and_invites_approved_pairs
# Planned once (unique key, ON CONFLICT DO NOTHING)
#   U/test_outbox.py::test_plan_counts_only_new_keys,
#   S/test_delivery.py::test_passes_and_planning_are_idempotent
# Claimed atomically
#   S/test_delivery.py::test_two_concurrent_workers_send_each_message_once,
#   S/test_recovery.py::test_two_workers_with_slack_limits_on_send_each_message_once
# Claimed by a live worker (dead workers' claims released at once; other ids: lease)
#   S/test_recovery.py::test_a_killed_process_wave_is_finished_at_once_by_the_next_pass,
#   test_claims_of_dead_workers_are_released_and_live_ones_kept;
#   S/test_delivery.py::test_a_crashed_workers_claim_is_taken_over_after_its_lease
# At-least-once, a window of one Slack call
#   S/test_crash.py (each invitation once, at most the calls in flight doubled)
# Stopped, not dropped
#   S/test_recovery.py::test_sigterm_mid_pass_hands_back_and_exits_within_10_s,
#   test_a_stopping_pass_hands_back_what_it_has_not_started,
#   test_tick_budget_ends_the_pass_and_says_what_is_left
# Checked at send time
#   - prep prompt of a moved/cancelled meeting: S/test_coaching.py::
#     test_didnt_happen_asks_for_a_new_time_and_moving_moves_prompts,
#     test_cancel_a_meeting_from_app_home
#   - "schedule again" once meetings exist: after_ack::
#     test_a_schedule_again_ask_is_skipped_when_meetings_exist_by_then
#   - invitation answered or withdrawn first: test_an_invitation_answered_before_it_went_
#     out_is_not_sent, after_ack::test_an_invitation_withdrawn_before_it_went_out_is_not_sent
#   - kickoff of a pair that ended first: after_ack::
#     test_a_kickoff_of_a_pair_that_ended_first_is_not_sent
# Answers on a response URL (DM when expired; row deleted once sent)
#   test_an_answer_whose_response_url_expired_comes_as_a_dm, after_ack::
#   test_a_cancel_button_takes_its_question_away_through_the_outbox
# In place (chat.update rows, in order; the recorded message, never a form's)
#   after_ack::test_updates_in_place_go_in_the_order_they_were_asked_for,
#   S/test_coaching.py::test_feedback_poll_updates_in_place_and_stays_private,
#   S/test_answers.py::test_a_form_cannot_name_someone_elses_message_for_chat_update
# Slack failures
#   - 429 paced, waited out in the pass, nothing due at T left unsent:
#     S/test_recovery.py::test_tick_under_429_storms_leaves_nothing_due_unsent,
#     U/test_pacing.py (buckets, per channel, tiers, Retry-After, 2-minute allowance)
#   - 5xx / connection: retried, backoff, failed after 6 and counted as undelivered:
#     S/test_delivery.py::test_slack_faults_lose_nothing_and_double_nothing,
#     test_exhausted_retries_fail_the_row_visibly, U/test_scheduling.py::test_backoff_*
#   - errors in the message fail at once: test_exhausted_retries_fail_the_row_visibly
# Errors about one person pause only that person
#   S/test_delivery.py::test_person_level_errors_pause_only_that_person,
#   S/test_lifecycle.py::test_person_errors_still_pause_only_that_person;
#   resumes on App Home, held over a day dropped: after_ack::
#   test_a_person_slack_refused_resumes_on_opening_home_and_stale_messages_drop
# A dead bot token pauses the whole workspace
#   S/test_lifecycle.py::test_a_dead_bot_token_pauses_the_whole_workspace_not_each_person,
#   test_uninstall_or_revocation_stops_the_workspace_at_once,
#   test_reinstall_resumes_the_workspace, test_a_paused_workspace_resumes_with_a_new_
#   token_only; U/test_workspaces.py::test_resume_releases_fresh_messages_and_replans_tips
# Tips after downtime
#   - tip times over 30 minutes past are passed over: after_ack::
#     test_tips_missed_in_an_outage_are_passed_over_not_planned
#   - over 6 hours late: dropped: S/test_delivery.py::test_a_tip_too_late_is_dropped_not_sent
# Which tip: chosen when it is sent
#   U/test_tip_choice.py (fixed queries per batch, recorded when sent, retries keep it),
#   U/test_tips.py (rounds, 👎, low ratings, first two weeks),
#   S/test_adaptive_tips.py::test_eight_weeks_of_tips_that_adapt
# Sent at once (woken loop; LISTEN/NOTIFY or a 1-s poll elsewhere)
#   S/test_recovery.py::test_the_sender_loop_sends_at_once_when_woken_or_notified,
#   test_rows_committed_elsewhere_leave_within_seconds
# Interactive requests
#   - redelivered events: S/test_pairing.py::test_redelivered_event_has_no_second_effect;
#     pruned after a day: S/test_small_holes.py::test_processed_events_are_pruned_...
#   - Home as home_refresh rows, a burst publishes once: after_ack::
#     test_app_home_refreshes_are_outbox_rows_and_a_burst_collapses
#   - Cancel through a respond row: after_ack::test_a_cancel_button_takes_its_...
#   - only modals (trigger_id) and error answers from the listener; /mentor match's
#     row before the ack, its modal after: after_ack::test_match_opens_its_modal_...,
#     S/test_program.py::test_match_whose_modal_does_not_open_is_answered_by_dm,
#     test_match_request_waits_for_its_modal_then_goes_without,
#     S/test_crash.py::test_sigkill_before_the_match_modal_opens_still_answers,
#     U/test_ack_first.py (work after the ack waits for the answer)
# Seeing and fixing it
#   U/test_outbox_cli.py, S/test_metrics.py::test_metrics_after_commands_and_a_tick

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.ids import Action, Block
from bot.store.models import Pair, ScheduledMessage
from slackemu import Input
from tests.conftest import MENTEE, MENTOR, Harness, all_text


def rows(h: Harness) -> list[tuple[str, str, str]]:
    with h.db.session() as s:
        return [
            (m.kind, m.recipient, m.status)
            for m in s.scalars(select(ScheduledMessage).order_by(ScheduledMessage.id))
        ]


def the_pair(h: Harness) -> Pair:
    with h.db.session() as s:
        return s.scalars(select(Pair)).one()


def test_a_use_case_is_committed_with_its_messages_before_the_ack(harness: Harness) -> None:
    h = harness
    mark = h.slack.mark()
    response = h.driver.slash(MENTOR, f"start <@{MENTEE}|bob>")  # no drain: the ack alone
    assert response.status == 200
    assert h.slack.calls[mark:] == []  # nothing asked of Slack, not even users.info
    pair = the_pair(h)
    assert pair.status == "invited"
    assert rows(h) == [("invitation", MENTEE, "pending")]

    h.app.drain()  # the sender: users.info on the invitee, then the DM
    invitation = h.last_dm(MENTEE)
    mark = h.slack.mark()
    h.driver.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    assert h.slack.calls[mark:] == []
    # Active, with no group DM yet: the kickoff that opens it is a row like the others.
    pair = the_pair(h)
    assert (pair.status, pair.channel_id) == ("active", None)
    assert [r for r in rows(h) if r[2] == "pending"] == [
        ("kickoff", f"pair:{pair.id}", "pending"),
        ("invitation_closed", MENTEE, "pending"),
        ("invite_answered", MENTOR, "pending"),
    ]
    h.app.drain()
    group = h.slack.wait_for("conversations.open").response["channel"]["id"]
    assert the_pair(h).channel_id == group
    assert {status for _kind, _to, status in rows(h)} == {"sent"}


def test_the_group_dm_waits_for_a_kickoff_slack_refused_then_everything_arrives_in_order(
    harness: Harness,
) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.slack.inject("conversations.open", error="internal_error")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    # Slack failed the group DM: the pair is active and says its kickoff is pending.
    assert the_pair(h).channel_id is None
    assert ("kickoff", f"pair:{the_pair(h).id}", "pending") in rows(h)
    assert "accepted" in all_text(h.last_dm(MENTOR))  # the rest went out meanwhile

    # They schedule before the group DM exists: the confirmation waits for it, and never
    # goes to anyone's DM instead.
    h.slash(MENTOR, "schedule")
    view = h.driver.last_view_opened(MENTOR)
    first = h.clock.now + timedelta(days=2)
    values = {
        block: {"value": Input.datetime(int((first + timedelta(days=7 * i)).timestamp()))}
        for i, block in enumerate(("meeting_1", "meeting_2", "meeting_3"))
    }
    values[Block.LENGTH] = {"value": Input.plain_text(None)}
    posts = len(h.slack.calls_to("chat.postMessage"))
    h.submit(MENTOR, view, values)
    assert len(h.slack.calls_to("chat.postMessage")) == posts
    with h.db.session() as s:
        waiting = s.scalars(
            select(ScheduledMessage).where(ScheduledMessage.kind == "schedule_confirmed")
        ).one()
        assert (waiting.status, waiting.attempts) == ("pending", 0)
        assert waiting.last_error == "waiting for the pair's group DM"

    # The kickoff's retry opens the group DM; the confirmation follows it there.
    h.tick(h.clock.now + timedelta(minutes=2))
    opened = h.slack.calls_to("conversations.open")
    assert [c.response.get("ok") for c in opened] == [False, True]
    group = opened[-1].response["channel"]["id"]
    assert the_pair(h).channel_id == group
    texts = [m["text"] for m in h.slack.messages_in(group) if not m.get("files")]
    assert texts[0].startswith("Welcome") and texts[1:] == ["Your next meetings are set"]
    # The meetings' calendar files waited for the group DM too.
    assert [len(m["files"]) for m in h.slack.messages_in(group) if m.get("files")] == [3]
    assert not [m for u in (MENTOR, MENTEE) for m in h.slack.messages_in(u) if "set" in m["text"]]


def test_an_invitee_slack_refuses_withdraws_the_pair_in_the_sender(harness: Harness) -> None:
    h = harness
    h.slack.add_user("UQUIET0009", name="quiet", real_name="Quiet Person", tz="UTC")
    h.slack.inject("chat.postMessage", error="messages_tab_disabled")
    response = h.slash(MENTOR, "start <@UQUIET0009>")
    answer = h.slack.wait_for("response_url", after=response.mark)
    assert "couldn't send <@UQUIET0009> a direct message" in answer.args["text"]
    with h.db.session() as s:
        assert s.scalars(select(Pair)).all() == []
        assert s.scalars(select(ScheduledMessage)).all() == []


def test_an_answer_whose_response_url_expired_comes_as_a_dm(harness: Harness) -> None:
    h = harness
    h.driver.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.slack.advance(31 * 60)  # Slack keeps a response URL for 30 minutes
    h.app.drain()
    assert "invited you" in h.last_dm(MENTEE)["text"]
    assert "on its way" in h.last_dm(MENTOR)["text"]
    # The answer's row is gone once delivered: the URL is not kept.
    assert [kind for kind, _to, _status in rows(h)] == ["invitation"]


def test_an_invitation_answered_before_it_went_out_is_not_sent(harness: Harness) -> None:
    h = harness
    # Slack fails every chat.postMessage for now: the invitation waits for its retry,
    # while App Home (views.publish, an outbox row too) already shows it.
    h.slack.inject("chat.postMessage", error="internal_error", times=1_000)
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.driver.app_home_opened(MENTEE)
    h.app.drain()
    home = h.slack.home_view(MENTEE)
    h.driver.click_in_view(MENTEE, home, Action.DECLINE_INVITE)
    h.slack.clear_faults()
    h.app.drain()
    h.tick(h.clock.now + timedelta(minutes=5))
    assert not [m for m in h.slack.messages_in(MENTEE) if "invited you" in m["text"]]
    assert "declined" in all_text(h.last_dm(MENTOR))
    assert {kind: status for kind, _to, status in rows(h)} == {
        "invitation": "cancelled",
        "invitation_closed": "cancelled",
        "invite_answered": "sent",
    }
