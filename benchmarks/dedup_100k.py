"""Dedup 100,000 records in at most 10 s and 1 GiB; prints time, peak memory and counts.

Records are made from the shared literature exports: each synthetic work is a real record with
a few vocabulary words appended to its title (so works stay distinct), and one in ten works is
re-emitted as a perturbed duplicate (case, punctuation, trailing period, DOI dropped), the way
the same paper arrives from two databases. Exit status 1 when a budget is exceeded.
"""

from __future__ import annotations

import random
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

from postcart.literature.dedup import find_duplicates
from postcart.literature.readers import read_records
from postcart.literature.records import Record

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "literature"
TOTAL = 100_000
DUPLICATE_SHARE = 0.1
TIME_BUDGET_S = 10.0
MEMORY_BUDGET_MIB = 1024.0


def _base_records() -> list[Record]:
    records: list[Record] = []
    for path in sorted(SHARED.rglob("*")):
        if path.is_file() and not path.name.startswith("esearch"):
            records.extend(read_records(path))
    return records


def _perturb(record: Record, rng: random.Random) -> Record:
    title = record.title.upper() if rng.random() < 0.5 else record.title.rstrip(".") + "."
    # Half the copies lose their DOI, so the title+fields tier must find them.
    doi = record.doi if rng.random() < 0.5 else None
    return replace(record, title=title.replace(":", " -"), doi=doi)


def make_records(total: int, seed: int = 100) -> tuple[list[Record], int]:
    """``total`` records and how many of them are planted duplicates."""
    rng = random.Random(seed)
    bases = _base_records()
    vocabulary = sorted({w for r in bases for w in r.title.split() if w.isalpha()})
    records: list[Record] = []
    planted = 0
    while len(records) < total:
        if records and rng.random() < DUPLICATE_SHARE:
            records.append(_perturb(rng.choice(records), rng))
            planted += 1
            continue
        base = rng.choice(bases)
        words = " ".join(rng.choices(vocabulary, k=3))
        serial = len(records)
        records.append(
            replace(
                base,
                title=f"{base.title} {words} {serial}",
                doi=f"10.9999/bench.{serial}",
                pmid=None,
                year=rng.randint(1990, 2025),
            )
        )
    return records, planted


def main() -> int:
    records, planted = make_records(TOTAL)
    started = time.perf_counter()
    result = find_duplicates(records)
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"records={len(records)} planted_duplicates={planted} links={len(result.links)} "
        f"review={len(result.review)} time={elapsed:.2f}s peak_rss={peak_mib:.0f}MiB "
        f"(budget {TIME_BUDGET_S:.0f}s, {MEMORY_BUDGET_MIB:.0f}MiB)"
    )
    ok = elapsed <= TIME_BUDGET_S and peak_mib <= MEMORY_BUDGET_MIB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
