"""Table `deliveries`: Telegram updates and WhatsApp messages already taken
(bot/messaging/shared.py), so that a provider's second delivery is not answered
twice, whichever gateway it reaches."""
from sqlalchemy import text

from bot.store.engine import Database


class DeliveryTables(Database):
    async def first_delivery(self, id_hash: str, now: float, keep_seconds: float) -> bool:
        """True the first time this delivery is seen (or once its record expired),
        and remembers it; False for a copy. One statement: of two copies at once on
        two gateways, one gets True."""
        return await self._run(lambda db: db.execute(text(
            "INSERT INTO deliveries (id_hash, expires_at) VALUES (:h, :e)"
            " ON CONFLICT (id_hash) DO UPDATE SET expires_at = :e"
            " WHERE deliveries.expires_at <= :now"),
            {"h": id_hash, "e": now + keep_seconds, "now": now}).rowcount == 1)

    async def delete_expired_deliveries(self, now: float) -> int:
        return await self._run(lambda db: db.execute(text(
            "DELETE FROM deliveries WHERE expires_at <= :now"), {"now": now}).rowcount)
