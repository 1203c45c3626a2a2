"""GatewayInput: the Rasa input channel that the gateway (bot/) talks to Rasa through.

Rasa's REST channel drops the response name (`utter_action`) that channels,
analytics and tests rely on, and it has no way to erase a conversation. This
channel keeps the name and adds erasure. Only the gateway may use it: every
request must carry `Authorization: Bearer <RASA_AUTH_TOKEN>` (the same token as
Rasa's HTTP API, handed to all three processes by scripts/run_stack.py).

    POST   /webhooks/gateway/webhook              {"sender": str, "message": str}
           -> [{"text": str, "buttons"?: [{"title", "payload"}], "response"?: str}]
    DELETE /webhooks/gateway/conversations/<id>   -> 204, the tracker is gone
    POST   /webhooks/gateway/conversations/<id>/handoff
           {"state": "paused"|"released"|"closed"|"resumed"}
           -> 200 [messages]: a person from the support team took the conversation
              (the bot is paused), handed it back or closed it (the bot resumes and
              runs action_after_handoff, which says so and picks up the steps), or
              nobody from the team is there any more ("resumed": quietly, the
              gateway tells the person itself)

Nothing here logs message text or conversation ids.
"""
import asyncio
import hmac
import logging
import os
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

import sqlalchemy
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ConversationPaused, ConversationResumed, SlotSet
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

HANDOFF_STATES = ("paused", "released", "closed", "resumed")
AFTER_HANDOFF = "action_after_handoff"


# The channels whose words may differ (domain.yml responses with `channel:`).
CHANNELS = ("web", "telegram", "whatsapp")


class ResponseCollector(OutputChannel):
    """Collects what the bot says, one message per response, with its name.

    Named after the person's channel, so that Rasa picks a response's variant for
    that channel where the domain has one ("clear your browser history" is for the
    web page only); any other name gets the default words."""

    def __init__(self, channel: Optional[Text] = None) -> None:
        self.messages: List[Dict[Text, Any]] = []
        self.channel = channel if channel in CHANNELS else "gateway"

    def name(self) -> Text:  # an instance's name: Rasa calls it on the instance
        return self.channel

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        text = message.get("text") or ""
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in message.get("buttons") or []
        ]
        if not text and not buttons:
            return  # images, custom JSON: the domain has none, and no channel shows them
        collected: Dict[Text, Any] = {"text": text}
        if buttons:
            collected["buttons"] = buttons
        if message.get("utter_action"):
            collected["response"] = message["utter_action"]
        self.messages.append(collected)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


def _innermost(store: TrackerStore) -> TrackerStore:
    """Rasa wraps the configured store (FailSafe, Awaitable): find the real one."""
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


async def erase_tracker(store: TrackerStore, sender_id: Text) -> None:
    """Deletes every event of one conversation. Rasa has no delete of its own."""
    inner = _innermost(store)
    if isinstance(inner, InMemoryTrackerStore):
        inner.store.pop(sender_id, None)
        return
    if isinstance(inner, SQLTrackerStore):  # several Rasa servers (endpoints.replicas.yml)
        try:
            with inner.session_scope() as session:
                session.query(inner.SQLEvent).filter(
                    inner.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
                session.commit()
                _empty_write_ahead_log(inner, session)
        finally:  # whatever failed, memory must not keep what may be gone from the file
            _forget(inner, sender_id)
        return
    raise NotImplementedError(f"erasure is not written for {type(inner).__name__}")


def erase_idle_trackers(store: TrackerStore, idle_since: float) -> int:
    """Deletes every conversation whose last event is older than `idle_since` (a Unix
    time); how many events went. The gateway erases each conversation it deletes
    here too, but an erasure that failed (Rasa was down) and was not retried before
    the gateway itself restarted would otherwise stay on disk for good."""
    inner = _innermost(store)
    if not isinstance(inner, SQLTrackerStore):
        return 0  # in memory: gone with the process
    event = inner.SQLEvent
    deleted = 0
    try:
        with inner.session_scope() as session:
            idle = (session.query(event.sender_id).group_by(event.sender_id)
                    .having(sqlalchemy.func.max(event.timestamp) < idle_since))
            deleted = session.query(event).filter(
                event.sender_id.in_(idle.scalar_subquery())).delete(synchronize_session=False)
            session.commit()
            if deleted:
                _empty_write_ahead_log(inner, session)
    finally:
        if deleted:
            _forget(inner)
    return deleted


def _forget(inner: TrackerStore, sender_id: Optional[Text] = None) -> None:
    if hasattr(inner, "forget"):  # channels/tracker_store.py keeps recent ones in memory
        inner.forget(sender_id)


def _empty_write_ahead_log(inner: SQLTrackerStore, session) -> None:
    """On SQLite the write-ahead log still holds the deleted rows' old pages: write
    them back and empty it."""
    if inner.engine.dialect.name != "sqlite":
        return
    busy, *_ = session.execute(sqlalchemy.text("PRAGMA wal_checkpoint(TRUNCATE)")).fetchone()
    if busy:
        logger.warning("Rasa's write-ahead log could not be emptied just now: the next "
                       "erasure or checkpoint will.")


def retention_settings() -> Tuple[float, float]:
    """(idle seconds, seconds between sweeps): the gateway's RETENTION_HOURS and
    RETENTION_SWEEP_SECONDS, with two hours' grace so that the gateway's own
    retention (which deletes its transcript too) always goes first."""
    hours = float(os.environ.get("RETENTION_HOURS") or 48)
    return (hours + 2) * 3600, float(os.environ.get("RETENTION_SWEEP_SECONDS") or 600)


class GatewayInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "gateway"

    def _authorised(self, request: Request) -> bool:
        token = os.environ.get("RASA_AUTH_TOKEN", "")
        given = request.headers.get("Authorization", "")
        # Sanic keeps undecodable header bytes as surrogates: encode them back as they came.
        return bool(token) and hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), f"Bearer {token}".encode())

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        gateway = Blueprint("gateway_channel", __name__)

        @gateway.listener("after_server_start")
        async def keep_retention(app, _loop) -> None:
            async def sweep() -> None:
                idle_seconds, every = retention_settings()
                while True:
                    try:
                        erase_idle_trackers(app.ctx.agent.tracker_store, time.time() - idle_seconds)
                    except Exception as error:  # noqa: BLE001 - the store is away: next time
                        logger.warning("Rasa's retention sweep failed (%s).", type(error).__name__)
                    await asyncio.sleep(every)

            app.add_task(sweep())

        @gateway.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @gateway.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            body: Optional[Dict[Text, Any]] = request.json if isinstance(request.json, dict) else None
            sender, text = (body or {}).get("sender"), (body or {}).get("message")
            if not isinstance(sender, str) or not sender or not isinstance(text, str):
                return response.json({"error": "sender and message are required"}, status=400)
            collector = ResponseCollector((body or {}).get("channel"))
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name())
            )
            return response.json(collector.messages)

        @gateway.route("/conversations/<sender_id>", methods=["DELETE"])
        async def erase(request: Request, sender_id: Text) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            agent = request.app.ctx.agent
            # Wait for any message of this conversation still being handled.
            async with agent.lock_store.lock(sender_id):
                await erase_tracker(agent.tracker_store, sender_id)
            return response.empty(status=204)

        @gateway.route("/conversations/<sender_id>/handoff", methods=["POST"])
        async def handoff(request: Request, sender_id: Text) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            state = (request.json or {}).get("state") if isinstance(request.json, dict) else None
            if state not in HANDOFF_STATES:
                return response.json({"error": "state must be one of " + ", ".join(HANDOFF_STATES)},
                                     status=400)
            agent = request.app.ctx.agent
            collector = ResponseCollector()
            async with agent.lock_store.lock(sender_id):
                tracker = await agent.processor.fetch_tracker_with_initial_session(sender_id, collector)
                if state == "paused":
                    tracker.update(ConversationPaused())
                    await agent.processor.save_tracker(tracker)
                elif state == "resumed":
                    tracker.update_with_events(
                        [ConversationResumed(), ActionExecuted(ACTION_LISTEN_NAME)], agent.domain)
                    await agent.processor.save_tracker(tracker)
                else:
                    tracker.update_with_events(
                        [ConversationResumed(), SlotSet("handoff", state)], agent.domain)
                    await agent.processor.save_tracker(tracker)
                    tracker = await agent.execute_action(sender_id, AFTER_HANDOFF, collector, None, 1.0)
                    # End the bot's turn as a message would: the rules expect the next
                    # message to follow action_listen.
                    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
                    await agent.processor.save_tracker(tracker)
            return response.json(collector.messages)

        return gateway
