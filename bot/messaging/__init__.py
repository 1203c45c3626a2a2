"""The messaging apps: what Telegram and WhatsApp share, each one's webhook, and where staff replies go."""
