"""Where to send a staff reply on Telegram or WhatsApp: the chat id or number.

Normally a reply goes back to whoever just wrote, and the id is used only in
memory. A support worker's reply can come at any time, so while a handoff is
open the id is also kept in the store, sealed (AES-GCM under a key derived from
CHANNEL_ID_KEY), and it is deleted when the handoff ends. Nobody who can read
the store alone can read the number; with CHANNEL_ID_KEY unset (a random key per
start) a restart makes the sealed copy unreadable, and the reply then waits
until the person writes again. A check-in the person asked for keeps its own
sealed copy (bot/conversation/check_in.py), until it is sent.
"""
from collections import OrderedDict
from typing import Optional

from bot.store import Store
from bot.store.sealing import Sealer


class AddressBook:
    def __init__(self, store: Store, channel_id_key: bytes, size: int = 100_000) -> None:
        self._store = store
        self._sealer = Sealer(b"reply-address", channel_id_key)
        self._known: "OrderedDict[str, str]" = OrderedDict()
        self._size = size

    def remember(self, session_id: str, raw_id: str) -> None:
        self._known[session_id] = raw_id
        self._known.move_to_end(session_id)
        if len(self._known) > self._size:
            self._known.popitem(last=False)

    def forget(self, session_id: str) -> None:
        self._known.pop(session_id, None)

    def sealed(self, session_id: str) -> Optional[str]:
        """The current sender's address, sealed, for a copy that must outlive this
        process (a handoff's, a check-in's); None if it isn't known here."""
        raw = self._known.get(session_id)
        return None if raw is None else self._sealer.seal(session_id, raw)

    def opened(self, session_id: str, sealed: str) -> Optional[str]:
        """None if it was sealed under another CHANNEL_ID_KEY (or for another conversation)."""
        return self._sealer.open(session_id, sealed)

    async def keep(self, session_id: str) -> None:
        """Seals the address into the store (a handoff has started)."""
        sealed = self.sealed(session_id)
        if sealed is not None:
            await self._store.set_reply_address(session_id, sealed)

    async def drop(self, session_id: str) -> None:
        await self._store.set_reply_address(session_id, None)

    async def get(self, session_id: str) -> Optional[str]:
        raw = self._known.get(session_id)
        if raw is None:
            sealed = await self._store.reply_address(session_id)
            raw = self.opened(session_id, sealed) if sealed else None
            if raw is not None:
                self.remember(session_id, raw)
        return raw
