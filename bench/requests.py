"""S3 requests per operation made by one bucketsync sync, in-process, against
`rclone serve s3` (a real HTTP endpoint; the scratch bucket stays in moto's memory).

    .venv/bin/python bench/requests.py [--objects 5000]

Checks the two promises of DESIGN.md section 3 for small objects:
- first sync into an empty bucket: exactly one CopyObject per object;
- no-op re-sync: only ListObjectsV2 on the user's buckets (about one per
  1,000 keys per side), no HeadObject or GetObject there.

How requests are counted: the engine calls `bucketsync.clients.reset()` at the
start and end of every run, so a hook registered on `clients.session().events`
beforehand is dropped with that session. Instead the hooks go on botocore's
global `botocore.handlers.BUILTIN_HANDLERS` list, which every botocore session
copies when it is created (moto installs its own interceptor the same way).
So every S3 API call made in this process after `install()` is seen, whichever
session or client makes it, with no change to bucketsync. One count per API
call (`before-parameter-build`, which carries the Bucket parameter); HTTP
retries are added up from each response's RetryAttempts (`after-call`).
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file, bench/ would be first on sys.path and this file would be
    # imported as the `requests` library (moto imports it): put the repo there.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from botocore.handlers import BUILTIN_HANDLERS  # noqa: E402

from bench.server import OUT, aws_env, rclone_s3  # noqa: E402

SCRATCH_PREFIX = "bucketsync-scratch-"


class RequestCounter:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls: Counter = Counter()     # (where, operation) -> API calls
        self.retries: Counter = Counter()   # (where, operation) -> extra HTTP attempts
        self.errors: Counter = Counter()    # (where, operation, code) -> calls that failed

    def install(self) -> None:
        BUILTIN_HANDLERS.append(("before-parameter-build.s3", self._before))
        BUILTIN_HANDLERS.append(("after-call.s3", self._after))

    def clear(self) -> None:
        with self.lock:
            self.calls.clear(), self.retries.clear(), self.errors.clear()

    def _before(self, params, model, context, **_):
        bucket = params.get("Bucket", "")
        where = "scratch" if bucket.startswith(SCRATCH_PREFIX) else "user" if bucket else "account"
        context["bench_key"] = (where, model.name)
        with self.lock:
            self.calls[where, model.name] += 1

    def _after(self, parsed, context, **_):
        key = context.get("bench_key")
        if key is None:
            return
        retries = parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        code = parsed.get("Error", {}).get("Code")
        with self.lock:
            self.retries[key] += retries
            if code:
                self.errors[(*key, code)] += 1


def sync_once(endpoint: str, destination: str) -> float:
    from bucketsync.local import cli
    out = io.StringIO()
    start = time.perf_counter()
    status = cli.sync(cli.SyncOptions(source="src", destination=destination, endpoint_url=endpoint, json=True),
                      out=out)
    seconds = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"sync failed ({status}): {out.getvalue()}")
    return seconds


def table(title: str, counter: RequestCounter, objects: int) -> None:
    print(f"\n{title}\n| where | operation | calls | per object | retries |\n|---|---|---:|---:|---:|")
    for (where, op), calls in sorted(counter.calls.items()):
        print(f"| {where} | {op} | {calls} | {calls / objects:.4f} | {counter.retries[where, op]} |")
    for (where, op, code), n in sorted(counter.errors.items()):
        print(f"| {where} | {op} failed: {code} | {n} | | |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=5000, help="objects of 1 KiB in the source (default 5000)")
    args = parser.parse_args(argv)
    n = args.objects
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.update(aws_env(BUCKETSYNC_REPORT_DIR=str(OUT / "reports")))
    counter = RequestCounter()
    counter.install()
    problems = []
    with rclone_s3(OUT / "requests-data", ["src", "dst"], "src", n) as endpoint:
        seconds = sync_once(endpoint, "dst")
        table(f"first sync of {n} objects into an empty bucket ({seconds:.2f} s)", counter, n)
        user = {op: c for (where, op), c in counter.calls.items() if where == "user"}
        if user.get("CopyObject") != n:
            problems.append(f"first sync: {user.get('CopyObject', 0)} CopyObject calls for {n} objects")
        extra = {op: c for op, c in user.items() if op not in ("CopyObject", "ListObjectsV2", "HeadBucket")}
        if extra:
            problems.append(f"first sync: more than copies and listings on the user's buckets: {extra}")
        counter.clear()

        seconds = sync_once(endpoint, "dst")
        table(f"no-op re-sync of {n} objects ({seconds:.2f} s)", counter, n)
        user = {op: c for (where, op), c in counter.calls.items() if where == "user"}
        # One page per 1,000 keys per side; ValidateInput adds one HeadBucket
        # and one (first-page) listing per side to prove access.
        pages = 2 * -(-n // 1000)
        extra = {op: c for op, c in user.items() if op not in ("ListObjectsV2", "HeadBucket")}
        if extra:
            problems.append(f"no-op: requests other than listings on the user's buckets: {extra}")
        if user.get("ListObjectsV2", 0) > pages + 2:
            problems.append(f"no-op: {user.get('ListObjectsV2')} ListObjectsV2 calls, expected about {pages}")
    print()
    for problem in problems:
        print("PROBLEM:", problem)
    if not problems:
        print("OK: one CopyObject per object; the no-op run only lists the user's buckets")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
