"""Talk to the running assistant in the terminal (`make shell`).

Uses Rasa's own console client (the one `rasa shell` uses) against the server
that `make run` started, so it talks to the real REST channel and action server.
Each run is a new anonymous conversation.
"""
import asyncio
import os
import uuid

from dotenv import load_dotenv
from rasa.core.channels.console import record_messages

load_dotenv()

if __name__ == "__main__":
    server = f"http://127.0.0.1:{os.getenv('RASA_PORT', '5005')}"
    asyncio.run(record_messages(sender_id=uuid.uuid4().hex, server_url=server))
