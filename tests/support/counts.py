"""The insights' counters straight from the store, for tests that check what was counted."""
from typing import Dict

from bot.store import Store


async def raw_counts(database_url: str) -> Dict[str, int]:
    """Every counter's total, straight from the store (the page hides small ones)."""
    store = Store(database_url)
    per_day, _ = await store.insight_sums([(0, 2 ** 40)])  # all time as one "day"
    await store.close()
    return {name: total for _, name, total in per_day}
