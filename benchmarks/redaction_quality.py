"""Measure the redactor: recall per kind, false positives on look-alikes, and throughput.

Run with `python -m benchmarks.redaction_quality [--per-kind N] [--negatives N]`. The corpus is
synthetic (Faker, seeded) and uses the formats the detectors claim to support; Faker's own
phone formats are reported separately because several are national formats without a country
code, which the phone detector deliberately leaves alone.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Sequence

from faker import Faker

from benchmarks._corpus import ADVERSARIAL, KINDS, Sample, generate, prompt
from otel_llm.redaction import Redactor


def detected(redactor: Redactor, sample: Sample) -> bool:
    """Whether the sample's value is gone from the output and a finding of its kind was made."""
    result = redactor.redact(sample.text)
    if not sample.kind:
        return bool(result.findings)
    return sample.value not in result.text and any(f.kind == sample.kind for f in result.findings)


def quality(redactor: Redactor, samples: Sequence[Sample]) -> tuple[dict[str, float], float]:
    """Recall per kind and the false-positive rate (negatives with any finding)."""
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    false_positives = negatives = 0
    for sample in samples:
        found = detected(redactor, sample)
        if sample.kind:
            totals[sample.kind] += 1
            hits[sample.kind] += found
        else:
            negatives += 1
            false_positives += found
    recall = {kind: hits[kind] / totals[kind] for kind in KINDS if totals[kind]}
    return recall, false_positives / max(negatives, 1)


def throughput(redactor: Redactor, text: str, budget: float = 1.0) -> float:
    """MB/s of `redact` on `text`, repeated for about `budget` seconds."""
    size = len(text.encode("utf-8"))
    runs = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < budget or runs < 3:
        redactor.redact(text)
        runs += 1
    return size * runs / elapsed / 1e6


def _report_misses(redactor: Redactor, samples: Sequence[Sample], limit: int = 8) -> None:
    misses = Counter(s.subtype for s in samples if detected(redactor, s) != bool(s.kind))
    if misses:
        print("  misses and false positives by generator:", dict(misses.most_common(limit)))


def _faker_phones(redactor: Redactor, count: int) -> float:
    fake = Faker(["en_US", "en_GB", "de_DE", "fr_FR"])
    fake.seed_instance(3)
    found = sum(bool(redactor.redact(fake.phone_number()).findings) for _ in range(count))
    return found / count


def main(argv: Sequence[str] | None = None) -> None:
    """Print the quality and speed figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=500)
    parser.add_argument("--negatives", type=int, default=5000)
    args = parser.parse_args(argv)

    redactor = Redactor()
    samples = generate(args.per_kind, args.negatives)
    recall, fp_rate = quality(redactor, samples)
    print(f"corpus: {args.per_kind} positives per kind, {args.negatives} hard negatives")
    for kind, value in recall.items():
        print(f"  recall {kind:<13} {value:6.1%}")
    print(f"  false-positive rate   {fp_rate:6.2%}")
    _report_misses(redactor, samples)
    print(f"  (informational) Faker native phone formats found: {_faker_phones(redactor, 500):.1%}")

    print("throughput (redact on one string):")
    for size in (1024, 16 * 1024, 256 * 1024):
        text = prompt(size)
        print(f"  realistic prompt {size // 1024:>4} KB  {throughput(redactor, text):8.1f} MB/s")
    clean = prompt(16 * 1024)
    clean_result = redactor.redact(clean)
    print(f"  (16 KB prompt above had {len(clean_result.findings)} findings)")
    for name, text in ADVERSARIAL.items():
        rate = throughput(redactor, text, budget=0.2)
        print(f"  adversarial {name:<20} {rate:8.1f} MB/s")


if __name__ == "__main__":
    main()
