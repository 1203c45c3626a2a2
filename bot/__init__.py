"""The gateway: the only door from outside (web chat, Telegram, WhatsApp).

It keeps people anonymous, redacts personal data before anything is stored or
passed on, and routes each conversation to the assistant (Rasa). `app.create_app`
builds it; `python -m bot` runs it.
"""
