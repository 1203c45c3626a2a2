"""Talks to the assistant: Rasa through our own channel (channels/gateway_input.py),
and the action server's health check. Both are on loopback behind the gateway.
"""
import asyncio
import time
from typing import Any, Dict, List, Optional

import aiohttp


class AssistantUnavailable(Exception):
    """Rasa did not answer, answered with an error, or said nothing at all."""


class RasaClient:
    def __init__(self, rasa_url: str, actions_url: str, token: str,
                 timeout_seconds: float = 20) -> None:
        self._rasa_url = rasa_url.rstrip("/")
        self._actions_url = actions_url.rstrip("/")
        # Our channel reads the bearer header; Rasa's own HTTP API (/status) only ?token=.
        self._headers = {"Authorization": f"Bearer {token}"}
        self._api_auth = {"token": token}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._client = None
        self._actions_checked = (float("-inf"), True)  # (when, up)

    @property
    def _http(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop.
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession()
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def send(self, session_id: str, text: str,
                   channel: Optional[str] = None) -> List[Dict[str, Any]]:
        """The assistant's replies to one user message. `channel` ("web", "telegram",
        "whatsapp") picks the domain's words for it where they differ."""
        try:
            async with self._http.post(
                f"{self._rasa_url}/webhooks/gateway/webhook",
                json={"sender": session_id, "message": text, **({"channel": channel} if channel else {})},
                headers=self._headers, timeout=self._timeout,
            ) as response:
                if response.status != 200:
                    raise AssistantUnavailable(f"Rasa answered {response.status}")
                messages = await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise AssistantUnavailable(type(error).__name__) from error
        if not isinstance(messages, list) or not messages:
            # With the action server down, Rasa answers 200 with nothing to say.
            raise AssistantUnavailable("Rasa had nothing to say")
        return messages

    async def intent(self, text: str, timeout_seconds: Optional[float] = None) -> Optional[str]:
        """What the NLU (with the crisis safety net) makes of a message, without
        touching any conversation; None if Rasa can't say (within `timeout_seconds`)."""
        timeout = aiohttp.ClientTimeout(total=timeout_seconds) if timeout_seconds else self._timeout
        try:
            async with self._http.post(f"{self._rasa_url}/model/parse", params=self._api_auth,
                                       json={"text": text}, timeout=timeout) as response:
                if response.status != 200:
                    return None
                parsed = await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return None
        return ((parsed or {}).get("intent") or {}).get("name")

    async def handoff(self, session_id: str, state: str) -> List[Dict[str, Any]]:
        """Pauses the bot ("paused") or resumes it ("released", "closed"); returns
        what it says on resuming."""
        try:
            async with self._http.post(
                f"{self._rasa_url}/webhooks/gateway/conversations/{session_id}/handoff",
                json={"state": state}, headers=self._headers, timeout=self._timeout,
            ) as response:
                if response.status != 200:
                    raise AssistantUnavailable(f"Rasa answered {response.status}")
                return await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise AssistantUnavailable(type(error).__name__) from error

    async def erase(self, session_id: str) -> bool:
        """Deletes the conversation from Rasa's tracker store. True if it is gone."""
        try:
            async with self._http.delete(
                f"{self._rasa_url}/webhooks/gateway/conversations/{session_id}",
                headers=self._headers, timeout=self._timeout,
            ) as response:
                return response.status == 204
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def _answers(self, url: str, params=None) -> str:
        try:
            async with self._http.get(url, params=params,
                                      timeout=aiohttp.ClientTimeout(total=3)) as response:
                return "up" if response.status == 200 else "down"
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return "down"

    async def health(self) -> Dict[str, str]:
        """"up" or "down" for Rasa and for the action server."""
        rasa, actions = await asyncio.gather(
            # /status answers 200 only once the model is loaded.
            self._answers(f"{self._rasa_url}/status", self._api_auth),
            self._answers(f"{self._actions_url}/health"))
        self._actions_checked = (time.monotonic(), actions == "up")
        return {"rasa": rasa, "actions": actions}

    async def actions_up(self, max_age_seconds: float = 5) -> bool:
        """Whether the action server answered lately (checked at most every few seconds).

        With it down, Rasa still says what it can without it and drops the rest
        (a step, the crisis follow-up): the gateway then adds the emergency numbers.
        """
        checked_at, up = self._actions_checked
        if time.monotonic() - checked_at > max_age_seconds:
            up = await self._answers(f"{self._actions_url}/health") == "up"
            self._actions_checked = (time.monotonic(), up)
        return up
