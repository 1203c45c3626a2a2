"""The actions' client of the gateway's internal API (bot/internal.py): calls with
the shared secret GATEWAY_INTERNAL_TOKEN. Used for handoffs and for passing a case on."""
import asyncio
import logging
import os
from typing import Any, Dict, List, Optional, Text, Tuple

import aiohttp

logger = logging.getLogger(__name__)


def gateway_urls() -> List[Text]:
    """GATEWAY_INTERNAL_URL: one gateway, or several separated by commas (replicas):
    the next is tried when one can't be reached. Any gateway will do: they share
    the store."""
    given = os.environ.get("GATEWAY_INTERNAL_URL", "http://127.0.0.1:8081")
    return [url.strip().rstrip("/") for url in given.split(",") if url.strip()]


async def post_to_gateway(path: Text, body: Dict[Text, Any],
                          timeout_seconds: float = 5) -> Optional[Tuple[int, Dict[Text, Any]]]:
    """(HTTP status, JSON answer) from the gateway, or None if none can be reached.
    Both calls (handoff, case) are safe to repeat: a second gateway gives the same answer."""
    token = os.environ.get("GATEWAY_INTERNAL_TOKEN", "")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_seconds)) as http:
        for url in gateway_urls():
            try:
                async with http.post(f"{url}{path}", json=body,
                                     headers={"Authorization": f"Bearer {token}"}) as response:
                    try:
                        answer = await response.json(content_type=None)
                    except ValueError:
                        answer = {}
                    return response.status, answer if isinstance(answer, dict) else {}
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                logger.warning("A gateway could not be reached (%s).", type(error).__name__)
    return None
