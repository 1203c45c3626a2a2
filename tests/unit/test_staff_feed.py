"""Who counts as on shift: a console open now, or moments ago; never after logging out."""
import time

from bot.staff.feed import BACKLOG, StaffFeed


def test_a_console_open_now_or_moments_ago_is_on_shift():
    feed = StaffFeed(away_seconds=0.2)
    time.sleep(0.25)  # past the start-up grace
    assert feed.on_shift() == 0 and not feed.is_on_shift("sam")
    console = feed.listen("sam")
    assert feed.on_shift() == 1 and feed.is_on_shift("sam")
    feed.stop_listening("sam", console)
    assert feed.is_on_shift("sam")  # a page reload is not the end of a shift
    time.sleep(0.25)
    assert feed.on_shift() == 0 and not feed.is_on_shift("sam")


def test_logging_out_ends_the_shift_at_once_even_before_the_socket_closes():
    feed = StaffFeed(away_seconds=60)
    console = feed.listen("sam")
    feed.signed_out("sam")
    feed.stop_listening("sam", console)
    assert feed.on_shift() == 0 and not feed.is_on_shift("sam")
    feed.listen("sam")  # back the next morning
    assert feed.is_on_shift("sam")


def test_just_after_a_restart_a_claim_holder_is_not_taken_for_absent():
    feed = StaffFeed(away_seconds=60)
    assert feed.just_started() and feed.is_on_shift("whoever-held-it")
    assert feed.on_shift() == 0  # but new requests are not told someone is there


def test_events_reach_every_console_and_a_stuck_one_does_not_block_the_rest():
    feed = StaffFeed()
    stuck, live = feed.listen("a"), feed.listen("b")
    received = []
    for n in range(BACKLOG + 100):
        feed.publish({"type": "queue_changed", "n": n})  # a full queue drops, never raises
        received.append(live.get_nowait()["n"])
    assert received == list(range(BACKLOG + 100))  # the reading console missed nothing
    assert stuck.qsize() == BACKLOG and stuck.get_nowait()["n"] == 0
