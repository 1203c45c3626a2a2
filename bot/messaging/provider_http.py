"""The one HTTP client for the messaging apps' servers (and the reporting channel's receiver)."""
from typing import Optional

import aiohttp


class ProviderHttp:
    """One HTTP client for the providers (and the reporting channel), made on first
    use inside the event loop."""

    def __init__(self) -> None:
        self._session: Optional[aiohttp.ClientSession] = None

    def post(self, *args, **kwargs):
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session.post(*args, **kwargs)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
