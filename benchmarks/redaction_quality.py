"""Measure the redactor: recall per kind and per form, false positives on look-alikes, speed.

Run with `.venv/bin/python -m benchmarks.redaction_quality [--per-kind N] [--negatives N]
[--json PATH]`. The corpus (benchmarks/_corpus.py) is synthetic (Faker, seeded), in English,
French, German and Spanish, and uses the forms the detectors claim to support, so recall on it
is partly by construction; the per-form lines show which forms it covers. Faker's own phone
formats are reported separately: bare national numbers are deliberately left alone (they look
like order numbers) unless a phone word ("call", "Tel.", "Handy", "móvil"...) is near them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from faker import Faker

from benchmarks._corpus import ADVERSARIAL, KINDS, LANGUAGES, Sample, generate, prompt
from otel_llm.redaction import Redactor


def detected(redactor: Redactor, sample: Sample) -> bool:
    """Whether the sample's value is gone from the output and a finding of its kind was made.

    A sample with a `key` is an attribute value (JSON tool arguments), redacted as one.
    """
    if sample.key:
        output, findings = redactor.redact_value(sample.key, sample.text)
        text = str(output)
    else:
        result = redactor.redact(sample.text)
        text, findings = result.text, result.findings
    if not sample.kind:
        return bool(findings)
    return sample.value not in text and any(f.kind == sample.kind for f in findings)


def quality(redactor: Redactor, samples: Sequence[Sample]) -> dict[str, Any]:
    """Recall per kind and per subtype, false-positive rate overall and per negative subtype."""
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for sample in samples:
        found = detected(redactor, sample)
        key = sample.kind or "negative"
        totals[key] += 1
        hits[key] += found
        totals[f"{key}/{sample.subtype}"] += 1
        hits[f"{key}/{sample.subtype}"] += found
    return {
        "recall": {kind: hits[kind] / totals[kind] for kind in KINDS if totals[kind]},
        "recall_by_form": {
            name.split("/", 1)[1]: hits[name] / totals[name]
            for name in sorted(totals)
            if "/" in name and not name.startswith("negative/")
        },
        "false_positive_rate": hits["negative"] / max(totals["negative"], 1),
        "false_positives_by_form": {
            name.split("/", 1)[1]: f"{hits[name]}/{totals[name]}"
            for name in sorted(totals)
            if name.startswith("negative/")
        },
        "positives": sum(totals[kind] for kind in KINDS),
        "negatives": totals["negative"],
    }


def throughput(redactor: Redactor, text: str, budget: float = 1.0) -> float:
    """MB/s of `redact` on `text`, repeated for about `budget` seconds."""
    size = len(text.encode("utf-8"))
    runs = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < budget or runs < 3:
        redactor.redact(text)
        runs += 1
    return size * runs / elapsed / 1e6


def faker_phones(redactor: Redactor, count: int) -> dict[str, float]:
    """Share of Faker's own phone numbers found, bare and after a phone word, per locale."""
    results = {}
    for locale in ("en_US", "en_GB", *LANGUAGES.values()):
        fake = Faker(locale)
        fake.seed_instance(3)
        numbers = [fake.phone_number() for _ in range(count)]
        bare = sum(bool(redactor.redact(number).findings) for number in numbers)
        context = sum(bool(redactor.redact(f"Tel: {number}").findings) for number in numbers)
        results[f"{locale} bare"] = bare / count
        results[f"{locale} after 'Tel:'"] = context / count
    return results


def main(argv: Sequence[str] | None = None) -> None:
    """Print the quality and speed figures (and write them as JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=1000)
    parser.add_argument("--negatives", type=int, default=10000)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    redactor = Redactor()
    samples = generate(args.per_kind, args.negatives)
    figures = quality(redactor, samples)
    print(f"corpus: {args.per_kind} positives per kind, {args.negatives} hard negatives")
    for kind, value in figures["recall"].items():
        print(f"  recall {kind:<13} {value:7.2%}")
    print(f"  false-positive rate   {figures['false_positive_rate']:7.3%}")
    print("  recall by form:")
    for form, value in figures["recall_by_form"].items():
        print(f"    {form:<22} {value:7.2%}")
    print("  false positives by negative form:")
    for form, value in figures["false_positives_by_form"].items():
        print(f"    {form:<22} {value}")
    figures["faker_phones"] = faker_phones(redactor, 500)
    print("  (informational) Faker's own phone formats found:")
    for name, value in figures["faker_phones"].items():
        print(f"    {name:<24} {value:6.1%}")

    print("throughput (redact on one string):")
    speeds: dict[str, float] = {}
    for language in ("en", "fr"):
        for size in (1024, 16 * 1024, 256 * 1024):
            text = prompt(size, language=language)
            name = f"{language} prompt {size // 1024} KB"
            speeds[name] = throughput(redactor, text)
            print(f"  {name:<20} {speeds[name]:8.1f} MB/s")
    for name, text in ADVERSARIAL.items():
        speeds[f"adversarial {name}"] = rate = throughput(redactor, text, budget=0.2)
        print(f"  adversarial {name:<28} {rate:8.1f} MB/s")
    figures["throughput_mb_s"] = speeds
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
