"""The support team: the console's API, sign-in, the live feed, the handoff queue, support hours
and the accounts command (`python -m bot.staff`)."""
