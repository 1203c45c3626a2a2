"""The web chat: its HTTP API, its WebSocket, the page itself and the checks on what it sends."""
