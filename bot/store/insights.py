"""Tables `insight_counts`, `insight_marks` and `unclear_messages`
(bot/insights/counts.py): anonymous counts per hour, what a conversation has
been counted for already, and the messages the assistant did not understand."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import text

from bot.store.engine import Database, iso_time

ADD_TO_COUNT = text(
    "INSERT INTO insight_counts (hour, name, count) VALUES (:h, :n, :k)"
    " ON CONFLICT (hour, name) DO UPDATE SET count = insight_counts.count + :k")


class InsightTables(Database):
    async def count(self, session_id: Optional[str], hour: int, each: Sequence[str] = (),
                    marks: Optional[Dict[str, Sequence[str]]] = None,
                    unclear: Optional[Tuple[str, str]] = None) -> List[str]:
        """Adds one to each counter in `each`; and for each mark this conversation
        gets for the first time, one to that mark's counters. Returns the new marks.
        `unclear`: (id, redacted text) of a message the assistant did not understand.
        A conversation erased meanwhile gets no marks and leaves no text."""
        def work(db):
            names, new = list(each), []
            for mark, counters in (marks or {}).items():
                if db.execute(text(
                        "INSERT INTO insight_marks (session_id, name) SELECT id, :m FROM sessions"
                        " WHERE id = :s ON CONFLICT DO NOTHING"),
                        {"s": session_id, "m": mark}).rowcount:
                    new.append(mark)
                    names.extend(counters)
            for name in names:
                db.execute(ADD_TO_COUNT, {"h": hour, "n": name, "k": 1})
            if unclear:
                db.execute(text(
                    "INSERT INTO unclear_messages (id, session_id, text, day)"
                    " SELECT :id, id, :t, :day FROM sessions WHERE id = :s"),
                    {"id": unclear[0], "s": session_id, "t": unclear[1],
                     "day": hour - hour % 86400})
            return new
        return await self._run(work)

    async def add_counts(self, hour: int, counts: Dict[str, int]) -> None:
        """Adds each total to its counter, in one write (Insights.tally's sums)."""
        await self._run(lambda db: [db.execute(ADD_TO_COUNT, {"h": hour, "n": name, "k": k})
                                    for name, k in counts.items()])

    async def marks_of(self, session_id: str) -> List[str]:
        """What this conversation has been counted for (under_18, crisis, ...): the
        facts the assistant knew, for the wrap-up and "did this help?"."""
        return await self._run(lambda db: [name for (name,) in db.execute(text(
            "SELECT name FROM insight_marks WHERE session_id = :s"), {"s": session_id})])

    async def insight_sums(self, days: Sequence[Tuple[int, int]]) -> Tuple[
            List[Tuple[int, str, int]], List[Tuple[int, int]]]:
        """For days given as (first hour, end hour): (day's index, counter, sum) for every
        counter each day, and (hour, conversations) for every hour of them. Summed here,
        not in Python: a year is ~150,000 rows."""
        def work(db):
            values = ", ".join(f"(:i{n}, :a{n}, :b{n})" for n in range(len(days)))
            params = {key: value for n, (first, end) in enumerate(days)
                      for key, value in ((f"i{n}", n), (f"a{n}", first), (f"b{n}", end))}
            per_day = db.execute(text(
                f"WITH days (i, first_hour, end_hour) AS (VALUES {values})"
                f" SELECT days.i, c.name, SUM(c.count) FROM insight_counts c JOIN days"
                f" ON c.hour >= days.first_hour AND c.hour < days.end_hour"
                f" GROUP BY days.i, c.name"), params)
            hourly = db.execute(text(
                "SELECT hour, count FROM insight_counts WHERE name = 'conversations'"
                " AND hour >= :a AND hour < :b"), {"a": days[0][0], "b": days[-1][1]})
            return ([(int(i), name, int(total)) for i, name, total in per_day],
                    [(int(hour), int(count)) for hour, count in hourly])
        return await self._run(work)

    async def delete_insights_before(self, hour: int) -> None:
        """Counts from before `hour`, and messages kept as training examples since then."""
        def work(db):
            db.execute(text("DELETE FROM insight_counts WHERE hour < :h"), {"h": hour})
            db.execute(text("DELETE FROM unclear_messages WHERE day < :h"), {"h": hour})
        await self._run(work)

    async def unclear_messages(self, limit: int = 100) -> List[Dict[str, Any]]:
        """The ones still to look at, newest first, then the ones kept (with their intent)."""
        def work(db):
            rows = db.execute(text("SELECT id, text, day, intent FROM unclear_messages"
                                   " ORDER BY intent IS NULL DESC, day DESC, id LIMIT :n"),
                              {"n": limit})
            return [{"id": id_, "text": text_, "day": iso_time(day)[:10], "intent": intent}
                    for id_, text_, day, intent in rows]
        return await self._run(work)

    async def kept_examples(self) -> Dict[str, List[str]]:
        """intent -> the texts kept as its training examples."""
        def work(db):
            kept: Dict[str, List[str]] = {}
            for intent, text_ in db.execute(text(
                    "SELECT intent, text FROM unclear_messages WHERE intent IS NOT NULL"
                    " ORDER BY intent, day, id")):
                kept.setdefault(intent, []).append(text_)
            return kept
        return await self._run(work)

    async def keep_unclear(self, message_id: str, intent: str) -> bool:
        """Kept for training: labelled, and no longer linked to its conversation."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE unclear_messages SET intent = :i, session_id = NULL WHERE id = :id"),
            {"i": intent, "id": message_id}).rowcount == 1)

    async def drop_unclear(self, message_id: str) -> bool:
        return await self._run(lambda db: db.execute(text(
            "DELETE FROM unclear_messages WHERE id = :id"), {"id": message_id}).rowcount == 1)
