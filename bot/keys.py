"""Every typed key the app shares with its route modules, in one place. create_app
(bot/app.py) sets them all; route modules only read them."""
import asyncio
from typing import Set

from aiohttp import web

from bot.conversation.turn import Conversations
from bot.messaging.provider_http import ProviderHttp
from bot.reporting.outbox import Reporting
from bot.settings import Settings
from bot.staff.auth import StaffAuth
from bot.staff.handoffs import Handoffs
from bot.staff.saved_replies import SavedReplies
from bot.staff.shift import Shift
from bot.staff.totp import TwoFactor
from bot.staff.typing import Typing

SETTINGS = web.AppKey("settings", Settings)
CONVERSATIONS = web.AppKey("conversations", Conversations)
HANDOFFS = web.AppKey("handoffs", Handoffs)
SHIFT = web.AppKey("shift", Shift)  # transfers and the supervisor's view (bot/staff/shift.py)
AUTH = web.AppKey("staff_auth", StaffAuth)
TWO_FACTOR = web.AppKey("staff_two_factor", TwoFactor)
REPORTS = web.AppKey("reports", Reporting)
# The team's saved replies (saved_replies.yml), read once at start-up.
SAVED_REPLIES = web.AppKey("saved_replies", SavedReplies)
# Typing indicators, both ways: passed on, never stored.
TYPING = web.AppKey("typing", Typing)
# The pages, rendered once at start-up with the fact sheet's numbers in them.
CHAT_PAGE = web.AppKey("chat_page", str)
CONSOLE_PAGE = web.AppKey("staff_console_page", str)
# The messaging apps: one HTTP client, and the replies being sent in the background.
HTTP = web.AppKey("provider_http", ProviderHttp)
# Come-back codes' store lookups running at once, gateway-wide (bot/web/come_back.py).
COME_BACK_LOOKUPS = web.AppKey("come_back_lookups", asyncio.Semaphore)
TASKS = web.AppKey("background_tasks", Set[asyncio.Task])
