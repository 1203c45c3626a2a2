"""Scores the redactor on labelled sets of messages (`make test` runs it).

For each kind of personal data: recall (share of labelled values fully hidden,
whatever placeholder hid them: a hidden phone number is hidden) and precision
(share of the redactor's finds of that kind that touch a labelled value).
Exits non-zero when a recall is under its floor.

    python scripts/redaction_report.py tests/data/redaction_set_a.yml ... [--min-recall 0.95 --min-name-recall 0.85]
"""
import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.conversation.redaction import KINDS, load_redactor


def labelled_spans(text: str, pii: List[Dict[str, str]]) -> List[Tuple[int, int, str]]:
    spans, searched_from = [], Counter()
    for item in pii:
        value = item["value"]
        start = text.find(value, searched_from[value])
        if start < 0:
            raise ValueError(f"{value!r} is not in {text!r}")
        searched_from[value] = start + len(value)
        spans.append((start, start + len(value), item["type"]))
    return spans


def score(redactor, messages) -> Tuple[Dict[str, List[int]], Dict[str, List[int]], List[str]]:
    recall = {kind: [0, 0] for kind in KINDS}     # hidden, labelled
    precision = {kind: [0, 0] for kind in KINDS}  # right, found
    misses = []
    for message in messages:
        text = message["text"]
        gold = labelled_spans(text, message.get("pii") or [])
        finds = redactor.find(text)
        covered = set()
        for find in finds:
            covered.update(range(find.start, find.end))
            precision[find.kind][1] += 1
            if any(find.start < end and start < find.end for start, end, _ in gold):
                precision[find.kind][0] += 1
        for start, end, kind in gold:
            recall[kind][1] += 1
            if all(i in covered for i in range(start, end) if text[i].isalnum()):
                recall[kind][0] += 1
            else:
                misses.append(f"{kind}: {text[start:end]!r} in {text[:90]!r}")
    return recall, precision, misses


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--min-recall", type=float, default=0.95)
    parser.add_argument("--min-name-recall", type=float, default=0.85)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    redactor = load_redactor()
    failed = False
    for path in args.sets:
        messages = yaml.safe_load(Path(path).read_text())["messages"]
        recall, precision, misses = score(redactor, messages)
        print(f"\nRedaction on {path} ({len(messages)} messages)")
        print(f"{'kind':<10}{'recall':>16}{'precision':>16}")
        for kind in KINDS:
            (hit, total), (right, found) = recall[kind], precision[kind]
            floor = args.min_name_recall if kind == "NAME" else args.min_recall
            r = hit / total if total else 1.0
            p = right / found if found else 1.0
            flag = "" if r >= floor else f"  < {floor}"
            failed |= r < floor
            print(f"{kind:<10}{r:>8.3f} {hit:>3}/{total:<3}{p:>8.3f} {right:>3}/{found:<3}{flag}")
        if args.show_misses:
            print("\n".join(misses))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
