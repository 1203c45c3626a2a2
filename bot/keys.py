"""Typed keys for what the app shares with its route modules."""
from aiohttp import web

from bot.config import Settings
from bot.conversation import Conversations

SETTINGS = web.AppKey("settings", Settings)
CONVERSATIONS = web.AppKey("conversations", Conversations)
