"""What the person's web page has been sent, for "Not seen yet" in the console
(docs/handoff.md). A reply to a web conversation whose page is closed waits in the
store; the console labels it until the page is sent it.

    the page is sent a batch of messages (the WebSocket's catch-up or a live one,
    GET /api/chat/{session}/messages) with a staff message in it
        -> sessions.seen_seq rises to the batch's newest seq (one UPDATE, never down)
        -> if it rose and the conversation is in the queue or held, every console
           that may see it: {"type": "seen", "conversation": id, "seq": N}

Only a batch with a staff message is written: those are all the console labels,
so a conversation with the bot alone costs nothing. "Seen" means sent to the page,
not read by a person. Telegram and WhatsApp keep 0 (the console shows null):
a reply there is delivered at once, or the "undelivered" alert says it wasn't.
"""
import logging
from typing import Any, Dict, List

from bot.conversation.turn import Conversations
from bot.errors import log_failure
from bot.staff.feed import audience
from bot.store import OPEN

logger = logging.getLogger(__name__)


async def sent_to_page(chats: Conversations, session_id: str, messages: List[Dict[str, Any]]) -> None:
    """The person's page has just been sent these stored messages. Never raises:
    a store that fails here must not stop the messages themselves."""
    if not any(message.get("from") == "staff" for message in messages):
        return
    newest = max(message["seq"] for message in messages)
    try:
        if not await chats.store.raise_seen(session_id, newest) or not chats.staff_feed.watched:
            return
        handoff = await chats.store.handoff_for_session(session_id)
        if handoff is not None and handoff["status"] in OPEN:
            # Like the conversation's messages: once held, only its holder (and supervisors).
            chats.staff_feed.publish({"type": "seen", "conversation": handoff["id"], "seq": newest,
                                      "audience": audience(handoff)})
    except Exception as failure:  # noqa: BLE001 - the label waits for the next batch
        log_failure(logger, "Could not record what a chat page was sent", failure)
