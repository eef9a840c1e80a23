"""Print WSS@95, WSS@100 and records-to-95 % recall for both prioritisation models.

Run from the project root: ``.venv/bin/python benchmarks/screening_wss.py [SEED]``.
Datasets are the labelled screening sets in ``../shared/data/screening``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from postcart.literature.prioritise import ModelKind
from postcart.literature.simulate import read_labelled_csv, simulate

SCREENING = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "screening"
RUNS = (
    ("Nagtegaal_2019", "label_included"),
    ("Nagtegaal_2019", "label_abstract_screening"),
    ("Bannach-Brown_2019", "label_included"),
)


def main(seed: int) -> None:
    """One line per dataset, label column and model."""
    print("dataset,label,model,n,included,wss95,wss100,records_to_95,random_to_95,seconds")
    for name, column in RUNS:
        data = read_labelled_csv(SCREENING / f"{name}.csv", column)
        for model in ModelKind:
            started = time.perf_counter()
            run = simulate(data, model, seed=seed)
            m = run.metrics
            print(
                f"{name},{column},{model},{m.n_records},{m.n_included},{m.wss95:.3f},"
                f"{m.wss100:.3f},{m.records_to_95},{run.random_records_to_95:.1f},"
                f"{time.perf_counter() - started:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
