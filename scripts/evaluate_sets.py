"""Blind conversation sets through the running system, as a victim would send them.

Every conversation goes through the gateway's public API (`POST /api/chat`), in a
fresh session, so redaction, Rasa, the rules and the actions all take part. The
response names that come back (and, for the facts set, the slots Rasa kept) are
scored; `tests/stack/test_understanding.py` holds the bars and `make evaluate` prints
the same table against a running `make run`:

    make evaluate    # the gateway and Rasa at the ports .env gives (8080, 5005)

The kinds of set (docs/evaluation.md says who wrote each one, and its first score):
- crisis: `crisis:` and `not_crisis:` lists, one message per conversation;
- under_18: conversations with `under_18: true|false`;
- helping: conversations with `writer: self|parent|friend|professional`;
- facts: single messages labelled with every fact they state (the slots).
"""
import argparse
import json
import os
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml
from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests" / "data"

CRISIS = "utter_crisis"
CHECK_RISK = "utter_check_risk"
UNDER_18_HELP = "utter_under_18"
HELPING = "utter_helping_someone"
FACT_SLOTS = ("under_18", "writer", "paid", "images_shared", "platform")

# Which file is which kind (the crisis sets, oldest first).
SETS = {
    "crisis": ["crisis_set.yml", "crisis_unseen.yml", "crisis_blind3.yml", "crisis_blind4.yml",
               "crisis_blind5.yml"],
    "under_18": ["age_in_story.yml", "age_in_story_b.yml"],
    "helping": ["helping_someone.yml", "helping_someone_b.yml"],
    "facts": ["multi_fact.yml", "multi_fact_b.yml"],
}


def post(url: str, body: Dict[str, Any], timeout: float = 60) -> Dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def get(url: str, timeout: float = 30) -> Dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass
class Conversation:
    session: str
    turns: List[List[str]]  # the response names of each turn
    slots: Dict[str, Any] = field(default_factory=dict)

    def said(self, response: str) -> bool:
        return any(response in turn for turn in self.turns)


@dataclass
class Client:
    base: str
    rasa: Optional[str] = None
    token: Optional[str] = None
    workers: int = 4

    def converse(self, messages: Sequence[str]) -> Conversation:
        session, turns = None, []
        for text in messages:
            reply = post(f"{self.base}/api/chat", {"text": text, **({"session": session} if session else {})})
            session = reply["session"]
            turns.append([m.get("response") or "" for m in reply["messages"]])
        slots = {}
        if self.rasa and self.token:
            tracker = get(f"{self.rasa}/conversations/{session}/tracker?token={self.token}")
            slots = {name: tracker["slots"].get(name) for name in FACT_SLOTS}
        return Conversation(session, turns, slots)

    def converse_all(self, conversations: Sequence[Sequence[str]]) -> List[Conversation]:
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(self.converse, conversations))


def load(name: str) -> Dict[str, Any]:
    return yaml.safe_load((TESTS / name).read_text(encoding="utf-8"))


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


# --- the kinds of set ----------------------------------------------------------

def score_crisis(client: Client, data: Dict[str, Any]) -> Dict[str, Any]:
    """Every crisis must get the crisis response or the gentle question; a non-crisis
    message must rarely get either."""
    crisis = client.converse_all([[text] for text in data["crisis"]])
    calm = client.converse_all([[text] for text in data["not_crisis"]])
    missed = [text for text, c in zip(data["crisis"], crisis) if not (c.said(CRISIS) or c.said(CHECK_RISK))]
    alarms = [text for text, c in zip(data["not_crisis"], calm) if c.said(CRISIS)]
    checks = [text for text, c in zip(data["not_crisis"], calm) if c.said(CHECK_RISK) and not c.said(CRISIS)]
    return {
        "crisis": len(crisis),
        "caught": len(crisis) - len(missed),
        "caught_by_crisis_response": sum(c.said(CRISIS) for c in crisis),
        "not_crisis": len(calm),
        "false_alarms": len(alarms),
        "checks": len(checks),
        "recall": rate(len(crisis) - len(missed), len(crisis)),
        "false_alarm_rate": rate(len(alarms), len(calm)),
        "check_rate": rate(len(checks), len(calm)),
        "missed": missed, "alarms": alarms, "checked": checks,
    }


def score_under_18(client: Client, data: Dict[str, Any]) -> Dict[str, Any]:
    """The under-18 help wherever the age is said; adults don't get it."""
    items = data["conversations"]
    results = client.converse_all([item["messages"] for item in items])
    young = [(i, c) for i, c in zip(items, results) if i["under_18"] is True]
    adults = [(i, c) for i, c in zip(items, results) if i["under_18"] is False]
    missed = [i["messages"] for i, c in young if not c.said(UNDER_18_HELP)]
    wrong = [i["messages"] for i, c in adults if c.said(UNDER_18_HELP)]
    return {
        "under_18": len(young), "helped": len(young) - len(missed),
        "rate": rate(len(young) - len(missed), len(young)),
        "adults": len(adults), "adults_helped": len(wrong),
        "missed": missed, "wrong": wrong,
    }


def score_helping(client: Client, data: Dict[str, Any]) -> Dict[str, Any]:
    """Parents, carers, friends and professionals get their route; victims don't."""
    items = data["conversations"]
    results = client.converse_all([item["messages"] for item in items])
    helpers = [(i, c) for i, c in zip(items, results) if i["writer"] != "self"]
    parents = [(i, c) for i, c in helpers if i["writer"] == "parent"]
    selves = [(i, c) for i, c in zip(items, results) if i["writer"] == "self"]
    missed = [i["messages"] for i, c in helpers if not c.said(HELPING)]
    wrong = [i["messages"] for i, c in selves if c.said(HELPING)]
    return {
        "helpers": len(helpers), "helped": len(helpers) - len(missed),
        "rate": rate(len(helpers) - len(missed), len(helpers)),
        "parents": len(parents), "parents_helped": sum(c.said(HELPING) for _, c in parents),
        "parent_rate": rate(sum(c.said(HELPING) for _, c in parents), len(parents)),
        "selves": len(selves), "selves_helped": len(wrong),
        "missed": missed, "wrong": wrong,
    }


def fact_kept(name: str, expected: Any, slots: Dict[str, Any]) -> bool:
    value = slots.get(name)
    if name == "writer":
        return (value or "self") == expected
    if name == "platform":
        return (value or None) == expected
    return bool(value) == bool(expected)


def score_facts(client: Client, data: Dict[str, Any]) -> Dict[str, Any]:
    """Each fact a message states is kept as its slot (and nothing that it doesn't)."""
    items = data["messages"]
    results = client.converse_all([[item["text"]] for item in items])
    per_fact = {}
    for name in FACT_SLOTS:
        right = [fact_kept(name, item.get(name), c.slots) for item, c in zip(items, results)]
        wrong = [(item["text"], item.get(name), c.slots.get(name))
                 for item, c, ok in zip(items, results, right) if not ok]
        per_fact[name] = {"right": sum(right), "of": len(items), "accuracy": rate(sum(right), len(items)),
                          "wrong": wrong}
    crisis_items = [(item, c) for item, c in zip(items, results) if item.get("crisis")]
    crisis_missed = [item["text"] for item, c in crisis_items if not (c.said(CRISIS) or c.said(CHECK_RISK))]
    return {"messages": len(items), "facts": per_fact,
            "crisis": len(crisis_items), "crisis_missed": crisis_missed}


SCORERS = {"crisis": score_crisis, "under_18": score_under_18, "helping": score_helping,
           "facts": score_facts}


def score_set(client: Client, kind: str, name: str) -> Dict[str, Any]:
    return SCORERS[kind](client, load(name))


def summary(kind: str, name: str, score: Dict[str, Any]) -> str:
    if kind == "crisis":
        return (f"{name}: crisis caught {score['caught']}/{score['crisis']} "
                f"({score['caught_by_crisis_response']} with the crisis response); "
                f"false alarms {score['false_alarms']}/{score['not_crisis']} ({score['false_alarm_rate']:.1%}); "
                f"gentle questions on non-crisis {score['checks']}/{score['not_crisis']} ({score['check_rate']:.1%})")
    if kind == "under_18":
        return (f"{name}: under-18 help in {score['helped']}/{score['under_18']} ({score['rate']:.1%}); "
                f"adults given it {score['adults_helped']}/{score['adults']}")
    if kind == "helping":
        return (f"{name}: helpers' route in {score['helped']}/{score['helpers']} ({score['rate']:.1%}), "
                f"parents {score['parents_helped']}/{score['parents']} ({score['parent_rate']:.1%}); "
                f"victims given it {score['selves_helped']}/{score['selves']}")
    facts = ", ".join(f"{n} {f['right']}/{f['of']}" for n, f in score["facts"].items())
    return (f"{name}: facts kept {facts}; crisis missed {len(score['crisis_missed'])}/{score['crisis']}")


def main() -> int:
    load_dotenv(ROOT / ".env")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=f"http://127.0.0.1:{os.getenv('GATEWAY_PORT', '8080')}",
                        help="the gateway")
    parser.add_argument("--rasa", default=f"http://127.0.0.1:{os.getenv('RASA_PORT', '5005')}",
                        help="Rasa's HTTP API, to read the facts kept (slots)")
    parser.add_argument("--token", default=os.getenv("RASA_AUTH_TOKEN"),
                        help="RASA_AUTH_TOKEN (without it, the facts are not read)")
    parser.add_argument("--only", nargs="*", help="set files to score (default: all)")
    parser.add_argument("--details", action="store_true", help="list every miss")
    args = parser.parse_args()
    client = Client(args.base, args.rasa, args.token)
    for kind, names in SETS.items():
        for name in names:
            if (args.only and name not in args.only) or not (TESTS / name).exists():
                continue
            score = score_set(client, kind, name)
            print(summary(kind, name, score))
            if args.details:
                details = {k: v for k, v in score.items() if isinstance(v, list) and v}
                if kind == "facts":
                    details.update({n: f["wrong"] for n, f in score["facts"].items() if f["wrong"]})
                print(json.dumps(details, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
