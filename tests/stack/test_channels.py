"""Telegram and WhatsApp through the running gateway, with their servers faked
on loopback (tests/support/fake_provider.py): signatures, a message round-trip to a
reply on the provider's API, buttons, duplicates, outages, and that the chat id
or phone number is never stored or logged."""
import glob
import json
import time
from pathlib import Path

import pytest

from bot.conversation.replies import reply
from tests.conftest import TELEGRAM_SECRET, WHATSAPP_VERIFY
from tests.support.messaging_apps import (
    IDS,
    sent_to_chat,
    sent_to_number,
    signed,
    telegram,
    telegram_text,
    whatsapp,
    whatsapp_message,
    whatsapp_text,
)
from tests.support.processes import call

# --- Telegram -------------------------------------------------------------------



@pytest.mark.parametrize("secret", [None, "", "wrong-secret", TELEGRAM_SECRET + "x", "wrong-ünïcode"])
def test_telegram_refuses_a_forged_or_missing_secret(stack, provider, secret):
    before = len(provider.requests)
    status, _, body = telegram(stack, telegram_text(7001, "hi"), secret=secret)
    assert status == 401 and body["error"]
    assert len(provider.requests) == before


def test_telegram_message_round_trips_to_a_reply_with_an_inline_keyboard(stack, provider):
    chat_id = 730_001_234
    assert telegram(stack, telegram_text(chat_id, "someone is blackmailing me with my nudes"))[0] == 200
    replies = provider.wait_for(lambda r: sent_to_chat(provider, chat_id)(r) and "reply_markup" in r["json"])
    sent = replies[0]
    assert sent["path"] == "/bot123:telegram-token/sendMessage"
    keyboard = sent["json"]["reply_markup"]["inline_keyboard"]
    assert keyboard and all(len(row) == 1 and row[0]["text"] and row[0]["callback_data"] for row in keyboard)

    # Tapping a button comes back as a callback query: answered, then a reply.
    payload = keyboard[0][0]["callback_data"]
    before = len(provider.requests)
    tap = {"update_id": next(IDS), "callback_query": {
        "id": "cb-77", "data": payload, "from": {"id": chat_id},
        "message": {"message_id": 5, "chat": {"id": chat_id, "type": "private"}}}}
    assert telegram(stack, tap)[0] == 200
    provider.wait_for(lambda r: r["path"].endswith("/answerCallbackQuery")
                      and r["json"] == {"callback_query_id": "cb-77"})
    provider.wait_for(sent_to_chat(provider, chat_id), since=before)


def test_telegram_delivers_one_reply_per_update_even_if_sent_twice(stack, provider):
    """Telegram redelivers an update it thinks was missed: answer it once."""
    twice, once = 730_009_998, 730_009_999
    update = telegram_text(twice, "should i pay him")
    assert telegram(stack, update)[0] == 200
    assert telegram(stack, update)[0] == 200
    assert telegram(stack, telegram_text(once, "should i pay him"))[0] == 200
    provider.wait_for(sent_to_chat(provider, twice))
    provider.wait_for(sent_to_chat(provider, once))
    time.sleep(2)

    def replies(chat_id):
        return [r for r in provider.requests if sent_to_chat(provider, chat_id)(r) and not r["failed"]]
    assert len(replies(twice)) == len(replies(once)) >= 1


def test_telegram_gets_the_words_for_a_messaging_app(stack, provider):
    """No browser history on Telegram: the domain's default words, not the web page's."""
    chat_id = 730_004_444
    assert telegram(stack, telegram_text(chat_id, "please delete my chat"))[0] == 200
    [sent] = provider.wait_for(sent_to_chat(provider, chat_id))
    assert "deleted this chat" in sent["json"]["text"]
    assert "browser" not in sent["json"]["text"] and "delete this chat in the app" in sent["json"]["text"]


def test_telegram_photo_gets_a_kind_text_only_reply(stack, provider):
    chat_id = 730_002_222
    update = telegram_text(chat_id, "x")
    del update["message"]["text"]
    update["message"]["photo"] = [{"file_id": "AgAD", "width": 90, "height": 90}]
    assert telegram(stack, update)[0] == 200
    [sent] = provider.wait_for(sent_to_chat(provider, chat_id))
    assert "photos" in sent["json"]["text"] and "999" in sent["json"]["text"]


def test_telegram_group_chats_are_ignored(stack, provider):
    assert telegram(stack, telegram_text(-100_555, "hi all", chat_type="group"))[0] == 200
    time.sleep(2)
    assert not [r for r in provider.requests if r["json"].get("chat_id") == "-100555"]


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"message": {"chat": 5}}',
                                 b'{"callback_query": "x"}'])
def test_telegram_odd_updates_get_an_answer_not_a_crash(stack, raw):
    status, _, body = call("POST", f"{stack['base']}/webhooks/telegram", raw=raw,
                           headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert status in (200, 400) and isinstance(body, dict)


def test_a_telegram_outage_is_retried_and_the_reply_arrives(stack, provider):
    chat_id = 730_003_333
    provider.fail_next = 2  # the first two attempts meet a 502
    assert telegram(stack, telegram_text(chat_id, "hello"))[0] == 200
    provider.wait_for(sent_to_chat(provider, chat_id), timeout=30)
    failed = [r for r in provider.requests if r["failed"] and r["json"].get("chat_id") == str(chat_id)]
    assert len(failed) == 2


def test_a_long_telegram_outage_never_crashes_the_gateway(stack, provider):
    chat_id = 730_004_444
    provider.fail_next = 50
    try:
        assert telegram(stack, telegram_text(chat_id, "hello"))[0] == 200
        time.sleep(5)  # every retry fails
    finally:
        provider.fail_next = 0
    assert call("GET", f"{stack['base']}/api/health")[0] == 200
    assert telegram(stack, telegram_text(chat_id, "are you there"))[0] == 200
    provider.wait_for(sent_to_chat(provider, chat_id), timeout=30)
    assert "Traceback" not in stack["process"].output()


# --- WhatsApp -------------------------------------------------------------------



def words_on_whatsapp(request) -> str:
    """What a message sent on WhatsApp says, plain or with buttons."""
    message = request["json"]
    return message["text"]["body"] if message["type"] == "text" else message["interactive"]["body"]["text"]


def test_whatsapp_answers_the_verification_challenge_only_with_our_token(stack):
    url = f"{stack['base']}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444"
    status, _, body = call("GET", f"{url}&hub.verify_token={WHATSAPP_VERIFY}")
    assert (status, body) == (200, 1158201444)  # the challenge, echoed as plain text
    assert call("GET", f"{url}&hub.verify_token=guess")[0] == 403
    assert call("GET", url)[0] == 403


@pytest.mark.parametrize("signature, status", [
    (None, 401), ("", 401), ("sha256=" + "0" * 64, 403), ("sha1=abc", 403),
    (signed(b"another body"), 403), (signed(b"x", "wrong-secret"), 403), ("sha256=ü", 403),
])
def test_whatsapp_refuses_unsigned_or_forged_posts(stack, provider, signature, status):
    before = len(provider.requests)
    got, _, body = whatsapp(stack, whatsapp_text("447700900111", "hi"), signature=signature)
    assert got == status and body["error"]
    assert len(provider.requests) == before


def test_whatsapp_message_round_trips_to_interactive_buttons(stack, provider):
    number = "447700900222"
    assert whatsapp(stack, whatsapp_text(number, "hes threatening to send my pics to my family"))[0] == 200
    sent = provider.wait_for(lambda r: sent_to_number(number)(r) and r["json"]["type"] == "interactive")
    message = sent[0]["json"]
    assert message["messaging_product"] == "whatsapp"
    assert sent[0]["headers"]["Authorization"] == "Bearer whatsapp-token"
    interactive = message["interactive"]
    assert interactive["body"]["text"]
    if interactive["type"] == "button":
        choices = [b["reply"] for b in interactive["action"]["buttons"]]
        assert 1 <= len(choices) <= 3 and all(len(c["title"]) <= 20 for c in choices)
    else:
        choices = interactive["action"]["sections"][0]["rows"]
        assert all(len(c["title"]) <= 24 for c in choices)

    # Tapping a reply button sends its id back.
    before = len(provider.requests)
    tap = whatsapp_message(number, {"type": "interactive", "interactive": {
        "type": "button_reply", "button_reply": {"id": choices[0]["id"], "title": choices[0]["title"]}}})
    assert whatsapp(stack, tap)[0] == 200
    provider.wait_for(sent_to_number(number), since=before)


def test_whatsapp_status_updates_and_media_are_handled_calmly(stack, provider):
    statuses = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [
            {"id": "wamid.x", "status": "delivered", "recipient_id": "447700900333"}]}}]}]}
    assert whatsapp(stack, statuses)[0] == 200
    number = "447700900444"
    image = whatsapp_message(number, {"type": "image", "image": {"id": "img1", "mime_type": "image/jpeg"}})
    assert whatsapp(stack, image)[0] == 200
    [sent] = provider.wait_for(sent_to_number(number))
    assert "photos" in sent["json"]["text"]["body"]


def test_a_whatsapp_outage_is_retried_and_the_reply_arrives(stack, provider):
    number = "447700900555"
    provider.fail_next = 1
    assert whatsapp(stack, whatsapp_text(number, "hello"))[0] == 200
    provider.wait_for(sent_to_number(number), timeout=30)
    assert [r for r in provider.requests if r["failed"] and r["json"].get("to") == number]


# --- who is behind a chat -------------------------------------------------------
def test_chat_ids_and_numbers_are_never_stored_or_logged(stack, provider):
    chat_id, number = 730_123_456, "447700900777"
    telegram(stack, telegram_text(chat_id, "please help he wants money"))
    whatsapp(stack, whatsapp_text(number, "please help he wants money"))
    provider.wait_for(sent_to_chat(provider, chat_id))
    provider.wait_for(sent_to_number(number))
    secrets = [str(chat_id), number, "Zed Realname", "zed_real_name"]
    for path in glob.glob(str(stack["data"] / "*")):
        content = Path(path).read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, (secret, path)
    log = stack["process"].output()
    for secret in secrets:
        assert secret not in log


def test_over_long_or_empty_messages_get_a_kind_reply_not_silence(stack, provider):
    chat_id, number = 730_005_555, "447700900888"
    assert telegram(stack, telegram_text(chat_id, "please help " * 300))[0] == 200
    [long_reply] = provider.wait_for(sent_to_chat(provider, chat_id))
    assert "too long" in long_reply["json"]["text"] and "999" in long_reply["json"]["text"]
    before = len(provider.requests)
    assert whatsapp(stack, whatsapp_text(number, "   "))[0] == 200
    [blank_reply] = provider.wait_for(sent_to_number(number), since=before)
    assert "999" in blank_reply["json"]["text"]["body"]


def test_a_lone_surrogate_still_gets_a_reply_on_telegram_and_whatsapp(stack, provider):
    """JSON's "\\ud800" (half of a pair, no character) is dropped: the person gets the
    answer to the rest, not silence."""
    chat_id, number = 730_006_666, "447700900666"
    assert telegram(stack, telegram_text(chat_id, "should i pay him \ud800"))[0] == 200
    assert whatsapp(stack, whatsapp_text(number, "\udfffshould i pay him"))[0] == 200
    on_telegram = [r["json"]["text"] for r in provider.wait_for(sent_to_chat(provider, chat_id))]
    on_whatsapp = [words_on_whatsapp(r) for r in provider.wait_for(sent_to_number(number))]
    for said in on_telegram + on_whatsapp:
        assert said and said != reply("gateway_unavailable")["text"]


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"entry": "x"}', b'{"entry": [{"changes": 5}]}'])
def test_signed_but_malformed_whatsapp_posts_get_a_clear_error(stack, raw):
    status, _, body = call("POST", f"{stack['base']}/webhooks/whatsapp", raw=raw,
                           headers={"X-Hub-Signature-256": signed(raw)})
    assert status in (200, 400) and isinstance(body, dict)
    assert status == 200 or body["error"]


# --- the notes for reporting, as a file to keep ----------------------------------
def telegram_tap(chat_id, payload):
    return {"update_id": next(IDS), "callback_query": {
        "id": f"cb-{next(IDS)}", "data": payload, "from": {"id": chat_id},
        "message": {"message_id": 5, "chat": {"id": chat_id, "type": "private"}}}}


def whatsapp_tap(number, payload):
    return whatsapp_message(number, {"type": "interactive", "interactive": {
        "type": "button_reply", "button_reply": {"id": payload, "title": "x"}}})


def to_the_notes(stack, provider, send, sent_to, text, tap):
    """Step 4, "help me get ready", every question skipped, the summary confirmed."""
    def then(update, needle):
        before = len(provider.requests)
        assert send(stack, update)[0] == 200
        provider.wait_for(lambda r: sent_to(r) and needle in json.dumps(r["json"]), since=before)

    then(text("someone is threatening to send my pics to my family"), "")
    then(text("how do i report him"), "/report_get_ready")
    then(tap("/report_get_ready"), "Which app")
    for question in ("When did it start", "What did they ask", "paid them", "shared the pictures",
                     "screenshots", "username"):
        then(tap("/skip"), question)
    then(tap("/skip"), "what you told me")
    before = len(provider.requests)
    assert send(stack, tap("/affirm"))[0] == 200
    return before


def test_telegram_gets_the_notes_for_reporting_as_a_document(stack, provider):
    chat_id = 730_009_876
    before = to_the_notes(stack, provider, telegram, sent_to_chat(provider, chat_id),
                          lambda text: telegram_text(chat_id, text),
                          lambda payload: telegram_tap(chat_id, payload))
    document = provider.wait_for(lambda r: r["path"].endswith("/sendDocument"), since=before)[0]
    assert document["json"]["chat_id"] == str(chat_id)
    filename, content = document["files"]["document"]
    assert filename == "report-notes.txt"
    assert "Your notes for reporting" in content and "Evidence to keep" in content


def test_whatsapp_gets_the_notes_for_reporting_as_a_document(stack, provider):
    number = "447700900987"
    before = to_the_notes(stack, provider, whatsapp, sent_to_number(number),
                          lambda text: whatsapp_text(number, text),
                          lambda payload: whatsapp_tap(number, payload))
    upload = provider.wait_for(lambda r: r["path"] == "/1098765/media", since=before)[0]
    assert upload["json"] == {"messaging_product": "whatsapp", "type": "text/plain"}
    filename, content = upload["files"]["file"]
    assert filename == "report-notes.txt" and "Evidence to keep" in content
    document = provider.wait_for(lambda r: sent_to_number(number)(r)
                                 and r["json"].get("type") == "document", since=before)[0]
    assert document["json"]["document"]["filename"] == "report-notes.txt"
    assert document["json"]["document"]["id"].startswith("media-")
