"""The app factory: builds the gateway from Settings. All the wiring is here: the
services, who delivers a staff reply on each channel, and the background loops.
Each feature's module only adds its routes; the app keys are in keys.py."""
import asyncio
import functools
import logging

from aiohttp import web

from bot import retention
from bot.bus import make_bus
from bot.conversation import language
from bot.conversation.admission import Admission
from bot.conversation.assistant import RasaClient
from bot.conversation.check_in import CheckInOffers
from bot.conversation.check_in_time import CheckInTime
from bot.conversation.crisis_floor import CrisisFloor, load_crisis_floor
from bot.conversation.locks import TurnLocks
from bot.conversation.ratelimit import RateLimiter
from bot.conversation.redaction import Redactor, load_redactor
from bot.conversation.turn import Conversations
from bot.errors import errors_as_json, security_headers
from bot.fact_sheet import fact_sheet
from bot.insights import api as insights_api
from bot.insights.counts import Insights
from bot.keys import (
    AUTH,
    CHAT_PAGE,
    COME_BACK_LOOKUPS,
    CONSOLE_PAGE,
    CONVERSATIONS,
    HANDOFFS,
    HTTP,
    REPORTS,
    SAVED_REPLIES,
    SETTINGS,
    SHIFT,
    TASKS,
    TWO_FACTOR,
    TYPING,
)
from bot.messaging import shared as messaging
from bot.messaging import telegram, whatsapp
from bot.messaging.addresses import AddressBook
from bot.messaging.check_ins import CheckInSchedule
from bot.messaging.provider_http import ProviderHttp
from bot.reporting import api as reporting_api
from bot.reporting.outbox import Reporting
from bot.settings import ROOT, Settings
from bot.staff import accounts_api, shift_api
from bot.staff import api as staff_api
from bot.staff.auth import StaffAuth
from bot.staff.feed import StaffFeed, presence_running
from bot.staff.handoffs import Handoffs
from bot.staff.hours import SupportHours
from bot.staff.saved_replies import SavedReplies
from bot.staff.shift import Shift
from bot.staff.totp import TwoFactor
from bot.staff.typing import Typing
from bot.staff.wrapup import load_wrapup
from bot.store import Store
from bot.web import api, come_back, page, websocket

logger = logging.getLogger(__name__)

# Request bodies: a 2,000-character message is at most 8 kB of UTF-8; webhooks are bigger.
MAX_BODY_BYTES = 256 * 1024
# Each feature's routes, in the order they are added.
FEATURES = (api, come_back, websocket, page, telegram, whatsapp, reporting_api, staff_api, accounts_api, shift_api,
            insights_api)


def create_app(settings: Settings, redactor: Redactor = None,
               floor: CrisisFloor = None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES,
                          middlewares=[security_headers, errors_as_json, staff_api.staff_only])
    app[SETTINGS] = settings
    # First: a file the team edits that can't be used stops the start (SavedRepliesError).
    app[SAVED_REPLIES] = SavedReplies(settings.saved_replies_file, fact_sheet(), settings.max_text_chars)
    language.load_word_lists()
    store = Store(settings.database_url)
    assistant = RasaClient(settings.rasa_url, settings.actions_url, settings.rasa_token)
    bus = make_bus(settings.redis_url)
    feed = StaffFeed(settings.staff_away_seconds, bus)
    hours = SupportHours(settings.support_hours, settings.support_timezone)
    # The wrap-up's lists (wrapup.yml): a malformed file stops start-up here, with why.
    insights = Insights(store, hours, feed.on_shift, load_wrapup(ROOT / settings.wrapup_file))
    chats = Conversations(store, assistant, redactor or load_redactor(),
                          RateLimiter(settings.messages_per_minute),
                          AddressBook(store, settings.channel_id_key),
                          feed, insights, TurnLocks(settings.redis_url),
                          floor=floor or load_crisis_floor(),
                          admission=Admission(settings.rasa_in_flight))
    app[CONVERSATIONS] = chats
    app[HANDOFFS] = handoffs = Handoffs(chats, hours, settings.handoff_minutes_each,
                                        settings.staff_max_chats)
    app[SHIFT] = Shift(handoffs)
    # "Talk to a person", or a crisis, with the action server down: as its action would ask.
    chats.request_person = lambda session, crisis: handoffs.request(session, crisis, False)
    app[AUTH] = StaffAuth(store, settings.staff_session_hours, settings.channel_id_key,
                          settings.staff_login_address_header, settings.staff_totp_for_all)
    # Sealed only under a key that outlives a restart (bot/staff/totp.py).
    app[TWO_FACTOR] = TwoFactor(store, settings.staff_totp_key or None)
    app[REPORTS] = reporting = Reporting(store, settings, feed, insights)
    chats.keep_answer = reporting.hold  # the answers kept out of the conversation, for a case

    # The pages, with the fact sheet's numbers in them.
    app[CHAT_PAGE] = page.render_page(settings.quick_exit_url, retention_hours=settings.retention_hours)
    app[CONSOLE_PAGE] = staff_api.render_console(fact_sheet())
    app[TYPING] = typing = Typing(handoffs)
    app[COME_BACK_LOOKUPS] = asyncio.Semaphore(come_back.LOOKUPS_AT_ONCE)

    # The messaging apps: one HTTP client, replies sent in the background, and a
    # support worker's reply going out the way the person wrote.
    app[HTTP], app[TASKS] = ProviderHttp(), set()
    if settings.telegram_enabled:
        chats.deliverers["telegram"] = functools.partial(telegram.send, app)
        typing.chat_actions["telegram"] = functools.partial(telegram.show_typing, app)
    if settings.whatsapp_enabled:
        chats.deliverers["whatsapp"] = functools.partial(whatsapp.send, app)
    # A check-in the person asks for there: offered in the turn, sent by the schedule.
    # Settings WhatsApp's 24-hour window can't keep stop the start here, but only with
    # a messaging app on: a web-only gateway has no check-in to keep.
    check_ins = None
    if chats.deliverers:
        times = CheckInTime(settings.check_in_after_minutes, settings.check_in_night,
                            settings.support_timezone)
        chats.check_ins = CheckInOffers(store, chats.addresses, bus, times,
                                        settings.check_in_grace_minutes, settings.retention_hours)
        check_ins = CheckInSchedule(chats, times)

    async def sharing(app: web.Application):
        # The other gateways (if any) hear what happens here, and who is on shift.
        await bus.start()
        async with presence_running(feed):
            yield
        await bus.close()

    async def close(app: web.Application) -> None:
        await chats.close()
        await assistant.close()
        await insights.close()  # what it counted in memory, before the store goes
        await store.close()

    # Background loops, stopped in reverse order at shutdown. Before them, replies still on
    # their way to Telegram and WhatsApp get their last seconds (what those turns publish
    # must still reach the other gateways); the store and clients close last.
    app.cleanup_ctx.extend([sharing, lambda _: reporting.running(), retention.run_periodically])
    if check_ins:
        app.cleanup_ctx.append(lambda _: check_ins.running())
    app.on_cleanup.insert(0, messaging.finish)
    app.on_cleanup.append(close)
    for feature in FEATURES:
        feature.setup_routes(app)
    return app
