"""The web page's WebSocket (/ws) against the running gateway: live messages,
catching up after a reconnect, bad frames, and other sites kept out."""
import asyncio

import aiohttp
import pytest


async def receive_until(socket, predicate, timeout=30):
    """Frames up to and including the first that matches."""
    frames = []
    while not frames or not predicate(frames[-1]):
        frames.append(await asyncio.wait_for(socket.receive_json(), timeout))
    return frames


def ws_url(stack):
    return stack["base"].replace("http://", "ws://") + "/ws"


def is_bot(frame):
    return frame.get("type") == "message" and frame.get("from") == "bot"


async def test_join_say_and_catch_up_after_a_reconnect(stack):
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(ws_url(stack)) as socket:
            await socket.send_json({"type": "join"})
            joined = await socket.receive_json()
            assert joined["type"] == "joined" and len(joined["session"]) >= 22
            session = joined["session"]
            await socket.send_json({"type": "say", "text": "he says pay £200 or he posts my pics"})
            frames = await receive_until(socket, is_bot)
            mine = [f for f in frames if f.get("from") == "user"]
            assert mine and mine[0]["seq"] == 1
            first_bot = next(f for f in frames if is_bot(f))
            assert first_bot["response"] and first_bot["seq"] > 1

        # The page reloads and joins again with the highest seq it showed: only newer ones come.
        async with http.ws_connect(ws_url(stack)) as socket:
            await socket.send_json({"type": "join", "session": session, "after": 1})
            assert (await socket.receive_json()) == {"type": "joined", "session": session}
            replayed = await socket.receive_json()
            assert replayed["seq"] == 2 and replayed["from"] == "bot"


async def test_a_lone_surrogate_on_the_socket_gets_a_normal_reply(stack):
    """JSON's "\\ud800" (half of a pair, no character) is dropped, not an error."""
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(stack)) as socket:
        await socket.send_json({"type": "join"})
        await socket.receive_json()
        await socket.send_json({"type": "say", "text": "should i pay him \ud800"})
        frames = await receive_until(socket, lambda f: is_bot(f) or f.get("type") == "error")
        assert is_bot(frames[-1]) and frames[-1]["response"] != "gateway_unavailable"
        assert [f["text"] for f in frames if f.get("from") == "user"] == ["should i pay him"]


@pytest.mark.parametrize("frame, status", [
    ({"type": "say", "text": "hi"}, 400),                 # not joined yet
    ({"type": "dance"}, 400),
    ({"type": "join", "session": "../../etc"}, 400),
    ({"type": "join", "session": "A" * 32}, 404),
    ({"type": "join", "after": -3}, 400),
    ({"type": "join", "after": "1"}, 400),
    ({"type": "join", "after": 2**64}, 400),              # past the database's integers
])
async def test_bad_frames_get_a_clear_error_and_the_socket_stays_open(stack, frame, status):
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(stack)) as socket:
        await socket.send_json(frame)
        answer = await socket.receive_json()
        assert answer["type"] == "error" and answer["status"] == status and answer["error"]
        await socket.send_bytes(b"\x00\x01")
        assert (await socket.receive_json())["status"] == 400
        await socket.send_str("not json")
        assert (await socket.receive_json())["status"] == 400
        await socket.send_json({"type": "join"})
        assert (await socket.receive_json())["type"] == "joined"
        await socket.send_json({"type": "say", "text": "x" * 2001})
        assert (await socket.receive_json())["status"] == 413


async def test_another_site_cannot_open_the_socket(stack):
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url(stack), headers={"Origin": "https://evil.example"})
        assert refused.value.status == 403
        own = stack["base"]
        async with http.ws_connect(ws_url(stack), headers={"Origin": own}) as socket:
            await socket.send_json({"type": "join"})
            assert (await socket.receive_json())["type"] == "joined"


async def test_forget_me_on_the_socket_says_forgotten(stack):
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(ws_url(stack)) as socket:
            await socket.send_json({"type": "join"})
            session = (await socket.receive_json())["session"]
            await socket.send_json({"type": "say", "text": "someone is blackmailing me"})
            await receive_until(socket, is_bot)
            await socket.send_json({"type": "say", "text": "delete this chat and everything i said"})
            frames = await receive_until(socket, lambda f: f.get("type") == "forgotten")
            assert any(f.get("response") == "utter_forget_me" for f in frames)
        async with http.get(f"{stack['base']}/api/chat/{session}/messages") as gone:
            assert gone.status == 404


def hang_up_after(stack, frame: bytes) -> None:
    """Opens the socket, sends one masked text frame and drops the connection at
    once, without a close frame (a phone losing its signal)."""
    import base64
    import os
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(stack["base"])
    with socket.create_connection((url.hostname, url.port), timeout=10) as raw:
        key = base64.b64encode(os.urandom(16)).decode()
        raw.sendall((f"GET /ws HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += raw.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        mask = os.urandom(4)
        raw.sendall(bytes([0x81, 0x80 | len(frame)]) + mask
                    + bytes(b ^ mask[i % 4] for i, b in enumerate(frame)))


async def test_a_connection_dropped_before_the_answer_is_no_error(stack):
    # It was logged as an unexpected error (twice: the socket's and the request's),
    # and aiohttp's heartbeat later pinged the dead connection in an orphan task.
    before = len(stack["process"].output())
    for frame in (b'{"type": "join"}', b'{"type": "say", "text": "hi"}', b'{"type": "dance"}'):
        for _ in range(3):
            hang_up_after(stack, frame)
    await asyncio.sleep(1)
    log = stack["process"].output()[before:]
    assert "Unexpected error" not in log and "Traceback" not in log
    async with aiohttp.ClientSession() as http, http.get(f"{stack['base']}/api/health") as health:
        assert health.status == 200


async def test_a_failure_inside_a_turn_is_not_blamed_on_the_frame(stack):
    # Any ValueError in a turn was caught as unreadable JSON: "Send JSON." (400) for a
    # failure of ours, logged nowhere. (A lone surrogate, valid JSON, made one.)
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(stack)) as socket:
        await socket.send_json({"type": "join"})
        assert (await socket.receive_json())["type"] == "joined"
        await socket.send_str('{"type": "say", "text": "he has my pics \\ud800"}')
        answer = await socket.receive_json()
        assert answer.get("error") != "Send JSON."
