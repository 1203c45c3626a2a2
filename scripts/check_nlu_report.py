"""Reads Rasa's intent report from `rasa test nlu` and fails below a macro-F1 floor."""
import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", help="intent_report.json written by `rasa test nlu`")
    parser.add_argument("--min-macro-f1", type=float, required=True)
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as handle:
        report = json.load(handle)
    intents = {
        name: scores for name, scores in report.items()
        if isinstance(scores, dict) and "support" in scores and name not in
        ("macro avg", "weighted avg", "micro avg")
    }
    print(f"{'intent':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}")
    for name, scores in sorted(intents.items(), key=lambda item: item[1]["f1-score"]):
        print(f"{name:<20} {scores['precision']:>9.2f} {scores['recall']:>7.2f} "
              f"{scores['f1-score']:>6.2f} {scores['support']:>4}")
    macro_f1 = report["macro avg"]["f1-score"]
    verdict = "ok" if macro_f1 >= args.min_macro_f1 else "TOO LOW"
    print(f"held-out intent macro-F1: {macro_f1:.3f} (floor {args.min_macro_f1:.2f}): {verdict}")
    return 0 if macro_f1 >= args.min_macro_f1 else 1


if __name__ == "__main__":
    sys.exit(main())
