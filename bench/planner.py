"""The pure planner merge: keys per second and peak memory by listing size.

    .venv/bin/python bench/planner.py [--sizes 100000,5000000] [--order in-order,folder-order]

`--order folder-order` gives the source listing in the order SeaweedFS lists
(every block of keys reversed: out of UTF-8 order, still streamed) and runs it
through the external merge sort (sorting.external_sort, spilling to a
temporary directory) before the merge, as the planner does for such a side.

Each size runs in a fresh subprocess (so ru_maxrss, the peak resident set,
belongs to that size alone). The two listings are generators of synthetic
sorted `Entry`s, never lists, exactly as the planner streams listing pages;
they mix every decision (copy, check, delete, unchanged). Two timed passes:
generating the listings only, then `merge(check_order(...), check_order(...))`
over fresh generators of the same listings (the difference is the planner's own cost;
on a noisy machine read it with care).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bucketsync.diff import Entry, check_order, merge  # noqa: E402
from bucketsync.sorting import external_sort  # noqa: E402


def listing(keys: int, side: str):
    """Sorted entries over a key space of `keys` keys; of every 20 keys, one
    is only at the destination (delete), one only at the source (copy), one
    has another ETag (check), one another size (copy), the rest are equal."""
    for i in range(keys):
        r = i % 20
        if (side == "source" and r == 0) or (side == "destination" and r == 1):
            continue
        size = 1025 if side == "destination" and r == 3 else 1024
        etag = f'"{i:032x}"' if not (side == "destination" and r == 2) else f'"{i + 1:032x}"'
        yield Entry(f"data/{i // 1000:06d}/object-{i:010d}.bin", size, etag)


def folder_order(entries, block: int = 1000):
    """The same entries out of order: each block of `block` reversed (only
    one block held at a time, as a listing page would be)."""
    held = []
    for entry in entries:
        held.append(entry)
        if len(held) == block:
            yield from reversed(held)
            held = []
    yield from reversed(held)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux


def child(keys: int, order: str) -> dict:
    baseline = rss_mib()
    sources = (lambda: listing(keys, "source")) if order == "in-order" else \
        (lambda: external_sort(folder_order(listing(keys, "source"))))
    start = time.perf_counter()
    for _ in (listing(keys, "source") if order == "in-order" else folder_order(listing(keys, "source"))):
        pass
    for _ in listing(keys, "destination"):
        pass
    generate = time.perf_counter() - start
    start = time.perf_counter()
    actions = Counter(d.action for d in merge(check_order(sources(), "source"),
                                              check_order(listing(keys, "destination"), "destination")))
    seconds = time.perf_counter() - start
    return {"keys": keys, "order": order, "generate_s": generate, "merge_s": seconds, "actions": dict(actions),
            "rss_before_mib": baseline, "rss_peak_mib": rss_mib()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,5000000", help="key-space sizes, comma-separated")
    parser.add_argument("--order", default="in-order,folder-order",
                        help="source listing orders: in-order (streamed), folder-order (external sort)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-order", default="in-order", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.child_order)))
        return 0
    rows = []
    print("| source order | keys | listings only (s) | listings + (sort +) check_order + merge (s) "
          "| keys/s through merge | peak RSS before / after the merge (MiB) |\n|---|---:|---:|---:|---:|---:|")
    for order in args.order.split(","):
        for keys in (int(s) for s in args.sizes.split(",")):
            out = subprocess.run([sys.executable, __file__, "--child", str(keys), "--child-order", order],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out)
            print(f"| {order} | {keys:,} | {r['generate_s']:.2f} | {r['merge_s']:.2f} | {keys / r['merge_s']:,.0f} "
                  f"| {r['rss_before_mib']:.1f} / {r['rss_peak_mib']:.1f} |", flush=True)
            rows.append(r)
    for r in rows:
        print(f"{r['order']}: {r['keys']:,} keys -> decisions {r['actions']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
