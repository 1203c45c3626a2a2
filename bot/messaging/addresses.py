"""Where to send a staff reply on Telegram or WhatsApp: the chat id or number.

Normally a reply goes back to whoever just wrote, and the id is used only in
memory. A support worker's reply can come at any time, so while a handoff is
open the id is also kept in the store, sealed (AES-GCM under a key derived from
CHANNEL_ID_KEY), and it is deleted when the handoff ends. Nobody who can read
the store alone can read the number; with CHANNEL_ID_KEY unset (a random key per
start) a restart makes the sealed copy unreadable, and the reply then waits
until the person writes again.
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

    async def keep(self, session_id: str) -> None:
        """Seals the address into the store (a handoff has started)."""
        raw = self._known.get(session_id)
        if raw is not None:
            await self._store.set_reply_address(session_id, self._sealer.seal(session_id, raw))

    async def drop(self, session_id: str) -> None:
        await self._store.set_reply_address(session_id, None)

    async def get(self, session_id: str) -> Optional[str]:
        raw = self._known.get(session_id)
        if raw is None:
            sealed = await self._store.reply_address(session_id)
            # None if sealed under another CHANNEL_ID_KEY.
            raw = self._sealer.open(session_id, sealed) if sealed else None
            if raw is not None:
                self.remember(session_id, raw)
        return raw
