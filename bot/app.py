"""The app factory: builds the gateway from Settings, one module per concern."""
import logging

from aiohttp import web

from bot import retention
from bot.insights import api as insights_api
from bot.messaging import telegram, whatsapp
from bot.reporting import cases as reports
from bot.staff import api as staff_api
from bot.web import api, page as web_page, websocket
from bot.messaging.addresses import AddressBook
from bot.bus import make_bus
from bot.settings import Settings
from bot.conversation.admission import Admission
from bot.conversation.turn import Conversations
from bot.conversation.crisis_floor import CrisisFloor, load_crisis_floor
from bot.errors import errors_as_json, security_headers
from bot.staff.handoffs import Handoffs
from bot.insights.counts import Insights
from bot.keys import CONVERSATIONS, SETTINGS
from bot.conversation.assistant import RasaClient
from bot.conversation.ratelimit import RateLimiter
from bot.conversation.redaction import Redactor, load_redactor
from bot.staff.api import AUTH, HANDOFFS
from bot.staff.auth import StaffAuth
from bot.staff.feed import StaffFeed, presence_running
from bot.store import Store
from bot.staff.hours import SupportHours
from bot.conversation.locks import TurnLocks

logger = logging.getLogger(__name__)

# Request bodies: a 2,000-character message is at most 8 kB of UTF-8; webhooks are bigger.
MAX_BODY_BYTES = 256 * 1024


def create_app(settings: Settings, redactor: Redactor = None,
               floor: CrisisFloor = None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES,
                          middlewares=[security_headers, errors_as_json, staff_api.staff_only])
    app[SETTINGS] = settings
    store = Store(settings.database_url)
    assistant = RasaClient(settings.rasa_url, settings.actions_url, settings.rasa_token)
    bus = make_bus(settings.redis_url)
    feed = StaffFeed(settings.staff_away_seconds, bus)
    hours = SupportHours(settings.support_hours, settings.support_timezone)
    chats = Conversations(store, assistant, redactor or load_redactor(),
                          RateLimiter(settings.messages_per_minute),
                          AddressBook(store, settings.channel_id_key),
                          feed, Insights(store, hours, feed.on_shift), TurnLocks(settings.redis_url),
                          floor=floor or load_crisis_floor(),
                          admission=Admission(settings.rasa_in_flight))
    app[CONVERSATIONS] = chats
    app[HANDOFFS] = Handoffs(chats, hours, settings.handoff_minutes_each)
    # "Talk to a person", or a crisis, with the action server down: as its action would ask.
    chats.request_person = lambda session, crisis: app[HANDOFFS].request(session, crisis, False)
    app[AUTH] = StaffAuth(store, settings.staff_session_hours, settings.channel_id_key,
                          settings.staff_login_address_header)

    async def close(app: web.Application) -> None:
        await app[CONVERSATIONS].close()
        await assistant.close()
        await store.close()

    async def sharing(app: web.Application):
        # The other gateways (if any) hear what happens here, and who is on shift.
        await bus.start()
        async with presence_running(feed):
            yield
        await bus.close()

    app.cleanup_ctx.append(sharing)
    app.on_cleanup.append(close)
    for module in (api, websocket, web_page, telegram, whatsapp, reports, retention, staff_api,
                   insights_api):
        module.setup_routes(app)
    return app
