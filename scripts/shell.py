"""Talk to the running support chat in the terminal (`make shell`).

Goes through the gateway's public API (POST /api/chat), exactly like a channel:
redaction, rate limits and all. Buttons are numbered: type the number to tap one.
Each run is a new anonymous conversation. Ctrl-D or Ctrl-C ends it.
"""
import json
import os
import urllib.error
import urllib.request

from dotenv import load_dotenv


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return {"messages": [{"text": json.load(error).get("error", str(error))}]}


def main() -> None:
    load_dotenv()
    url = f"http://127.0.0.1:{os.getenv('GATEWAY_PORT', '8080')}/api/chat"
    session, buttons = None, []
    print("Type a message (Ctrl-D to stop).")
    while True:
        try:
            text = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not text:
            continue
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        reply = post(url, {"text": text, **({"session": session} if session else {})})
        session = reply.get("session", session)
        buttons = []
        for message in reply.get("messages", []):
            print(message["text"])
            for button in message.get("buttons", []):
                buttons.append(button)
                print(f"  {len(buttons)}. {button['title']}")


if __name__ == "__main__":
    main()
