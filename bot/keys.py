"""Typed keys for what the app shares with its route modules."""
from aiohttp import web

from bot.settings import Settings
from bot.conversation.turn import Conversations

SETTINGS = web.AppKey("settings", Settings)
CONVERSATIONS = web.AppKey("conversations", Conversations)
