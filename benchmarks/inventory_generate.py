"""Print how fast the seeded inventory is generated (rows/s), without any database work.

Usage: .venv/bin/python benchmarks/inventory_generate.py [--seed N] [--per-block N] [--repeat N]
"""

import argparse
import time

from telroute.numbers.inventory import DEFAULT_PER_BLOCK, generate_inventory


def _run_once(seed: int, per_block: int) -> None:
    """One full generation, including reading phonenumbers' geocoder data."""
    started = time.perf_counter()
    rows = 0
    area_codes: set[str] = set()
    for row in generate_inventory(seed, per_block):
        rows += 1
        area_codes.add(row.npa)
    seconds = time.perf_counter() - started
    print(f"{rows:,} rows in {len(area_codes)} area codes: {seconds:.2f} s, {rows / seconds:,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-block", type=int, default=DEFAULT_PER_BLOCK)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for _ in range(args.repeat):
        _run_once(args.seed, args.per_block)


if __name__ == "__main__":
    main()
