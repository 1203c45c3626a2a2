"""Calls to the gateway's internal API (bot/internal.py): loopback only, with the
shared secret GATEWAY_INTERNAL_TOKEN. Used for handoffs and for passing a case on."""
import asyncio
import logging
import os
from typing import Any, Dict, Optional, Text, Tuple

import aiohttp

logger = logging.getLogger(__name__)


def gateway_url() -> Text:
    return os.environ.get("GATEWAY_INTERNAL_URL", "http://127.0.0.1:8081").rstrip("/")


async def post_to_gateway(path: Text, body: Dict[Text, Any],
                          timeout_seconds: float = 5) -> Optional[Tuple[int, Dict[Text, Any]]]:
    """(HTTP status, JSON answer) from the gateway, or None if it can't be reached."""
    token = os.environ.get("GATEWAY_INTERNAL_TOKEN", "")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_seconds)) as http:
            async with http.post(f"{gateway_url()}{path}", json=body,
                                 headers={"Authorization": f"Bearer {token}"}) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = {}
                return response.status, answer if isinstance(answer, dict) else {}
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        logger.warning("The gateway could not be reached (%s).", type(error).__name__)
        return None
