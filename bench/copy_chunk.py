"""Copies per CPU-second in the CopyChunk handler, per S3 transport.

    .venv/bin/python bench/copy_chunk.py [--objects 5000] [--rounds 3] [--transports crt,botocore]

In this process, as the local engine runs a sync (scratch bucket in moto's
memory, user buckets on `rclone serve s3`): the real ValidateInput and Plan
steps write a run's chunk files (N x 1 KiB objects, all to copy, ~1,000 a
chunk) into the work area; then the handler file `lambda_functions/copy_chunk.py`
is called once per chunk, one chunk after another, with the item the Copy
Map would pass ({"run", "chunk"}) and a Lambda context, as bucketsync.local.handlers
invokes it. Measured around each handler call only: `time.process_time()` of
this process (every thread, the CRT's native ones included; nothing else runs
meanwhile) and the wall time. The handler's work: read its chunk file, one
server-side CopyObject per object from 32 threads, read the writes back
(listings), write its result file.

Transports: "crt" (awscrt's S3Client, the default) and "botocore"
(BUCKETSYNC_S3_TRANSPORT=botocore: boto3, the transport before issue 19).
Rounds interleave the transports (the order rotates), each into a fresh
bucket; one untimed warm-up per transport first (100 objects). Checks: every
chunk reports its copies and no failure, the destination holds N objects,
and the CRT made exactly N CopyObject calls in a "crt" round and none in a
"botocore" one. Medians over the rounds; ratio = crt / botocore.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter
import contextlib
import importlib
from dataclasses import dataclass, field
from unittest import mock
from pathlib import Path

if __package__ in (None, ""):   # run as a file: import siblings as `bench.*`, not bench/ itself
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import record  # noqa: E402
from bench.server import OUT, aws_env, count_objects, rclone_s3, s3_client  # noqa: E402

SOURCE = "src"
SCRATCH = "bucketsync-scratch-bench"
TRANSPORTS = ("crt", "botocore")
WARM_UP_PREFIX = "d0000/"   # the first 100 keys (bench/server.py puts 100 in each folder)


# Where a handler's CPU goes: (label, module, attribute) of the calls timed
# inside it; the rest of the handler is "other" (settings, lease, decoding).
PHASES = (("chunk read", "bucketsync.s3", "get_json"), ("copies", "bucketsync.copy.chunk", "Copier.copy_chunk"),
          ("read-back", "bucketsync.copy.readback", "prove"), ("result write", "bucketsync.s3", "put_json"))


@dataclass
class Round:
    transport: str
    copies: int
    chunks: int
    cpu: float
    wall: float
    phases: dict = field(default_factory=dict)   # label -> CPU seconds

    @property
    def per_cpu_second(self) -> float:
        return self.copies / self.cpu


class Bench:
    """The parts of bucketsync one round uses (imported once, after the
    environment is set, so their import costs no round anything)."""

    def __init__(self, server: str):
        from bucketsync import clients, lease, s3, settings, steps
        from bucketsync.local.emulator import endpoint_clients_bypass_moto, moto_config
        from bucketsync.local.environment import environment, run_environment
        from bucketsync.local.handlers import LambdaContext, load_handler
        from bucketsync.project.frontmatter import FUNCTIONS_DIR
        from bucketsync.s3 import crt
        from bucketsync.work import Run
        self.server, self.clients, self.lease, self.s3, self.settings, self.steps = \
            server, clients, lease, s3, settings, steps
        self.environment, self.run_environment, self.Run = environment, run_environment, Run
        self.context = LambdaContext
        self.handler = load_handler(FUNCTIONS_DIR / "copy_chunk.py")
        self.moto_config, self.bypass = moto_config, endpoint_clients_bypass_moto
        self.crt_calls: Counter = Counter()
        crt.CALL_HOOKS.append(lambda name, params, status: self.crt_calls.update([name]))
        self.phases: Counter = Counter()

    @contextlib.contextmanager
    def phases_timed(self):
        """While active, the CPU of each call in PHASES adds up in `self.phases`
        (process-wide CPU: the handler's calls run one after another)."""
        with contextlib.ExitStack() as stack:
            for label, module, name in PHASES:
                owner = importlib.import_module(module)
                *path, attribute = name.split(".")
                for part in path:
                    owner = getattr(owner, part)
                stack.enter_context(mock.patch.object(owner, attribute, self._timed(label, getattr(owner, attribute))))
            yield

    def _timed(self, label: str, function):
        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.phases[label] += time.process_time() - start
        return timed

    def variables(self, transport: str) -> dict:
        return {**self.run_environment(SCRATCH, self.server, {}), "BUCKETSYNC_S3_TRANSPORT": transport,
                "BUCKETSYNC_LEASE_DIR": str(OUT / "copy-chunk-leases")}

    def planned(self, destination: str, prefix: str) -> tuple[dict, list]:
        """ValidateInput and Plan, as the state machine runs them: the run and its copy chunks."""
        execution = f"bench-{uuid.uuid4().hex[:12]}"
        given = {"source": SOURCE, "destination": destination, **({"prefix": prefix} if prefix else {})}
        state = self.steps.validate_input({"input": given, "execution": execution})
        event = {"run": state["run"], "cursor": None, "datasync": state["datasync"]}
        while True:
            answer = self.steps.plan(event)
            if answer["plan"]["done"]:
                break
            event = {"run": answer["run"], "cursor": answer["cursor"], "datasync": answer["datasync"]}
        work = self.clients.work_client()
        return answer["run"], self.s3.get_json(work, SCRATCH, answer["plan"]["copy_index"])

    def copy(self, transport: str, destination: str, prefix: str = "") -> Round:
        with self.environment(self.variables(transport)):
            self.clients.reset()
            run, chunks = self.planned(destination, prefix)
            self.crt_calls.clear()
            self.phases.clear()
            copies = failed = 0
            cpu = wall = 0.0
            for item in chunks:
                context = self.context("bucketsync-copy_chunk", 900)
                cpu_start, wall_start = time.process_time(), time.perf_counter()
                answer = self.handler({"run": run, "chunk": item}, context)
                cpu += time.process_time() - cpu_start
                wall += time.perf_counter() - wall_start
                copies, failed = copies + answer["copied"], failed + answer["failed"]
            self.lease.for_run(self.Run.from_dict(run), self.settings.load()).release()
            self.clients.reset()
        if failed:
            raise RuntimeError(f"{transport}: {failed} copies failed (chunk results in the scratch bucket)")
        made = self.crt_calls["CopyObject"]
        if made != (copies if transport == "crt" else 0):
            raise RuntimeError(f"{transport}: the CRT made {made} CopyObject calls for {copies} copies")
        return Round(transport, copies, len(chunks), cpu, wall, dict(self.phases))


def rounds(server: str, objects: int, count: int, transports: list[str]) -> list[Round]:
    from moto import mock_aws
    import boto3
    done = []
    bench = Bench(server)
    with mock_aws(config=bench.moto_config(real_credentials=True)), bench.bypass(), bench.phases_timed():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=SCRATCH)
        for transport in transports:
            bench.copy(transport, f"warm-{transport}", WARM_UP_PREFIX)
        for r in range(count):
            for transport in transports[r % len(transports):] + transports[:r % len(transports)]:
                destination = f"dst-{transport}-{r}"
                done.append(bench.copy(transport, destination))
                found = count_objects(s3_client(server), destination)
                if found != objects or done[-1].copies != objects:
                    raise RuntimeError(f"{transport}: {done[-1].copies} copies reported, {found} objects in "
                                       f"{destination}, expected {objects}")
                last = done[-1]
                print(f"  round {r + 1} {transport}: {last.copies} copies in {last.chunks} chunks, CPU {last.cpu:.2f} s,"
                      f" wall {last.wall:.2f} s, {last.per_cpu_second:.0f} copies per CPU-second", flush=True)
    return done


def markdown(done: list[Round], transports: list[str], header: str, count: int) -> str:
    lines = [header, f"Load average at the end: {record.load()}. Rounds: {count}; medians.", "",
             "| transport | copies | chunks | handler CPU (s) | handler wall (s) | CPU ms per copy | "
             "copies per CPU-second | copies per wall-second | ÷ botocore (copies per CPU-second) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rates = {t: record.median([r.per_cpu_second for r in done if r.transport == t]) for t in transports}
    for t in transports:
        mine = [r for r in done if r.transport == t]
        cpu, wall = record.median([r.cpu for r in mine]), record.median([r.wall for r in mine])
        ratio = f"{rates[t] / rates['botocore']:.2f}" if "botocore" in rates else "-"
        lines.append(f"| {t} | {mine[0].copies} | {mine[0].chunks} | {cpu:.2f} | {wall:.2f} | "
                     f"{1000 * cpu / mine[0].copies:.3f} | {rates[t]:.0f} | "
                     f"{record.median([r.copies / r.wall for r in mine]):.0f} | {ratio} |")
    lines += ["", "Where the handler's CPU goes (medians, CPU seconds; `copies` is the copier's thread pool, "
                  "`read-back` the listing that proves the writes, the chunk read and result write go to the "
                  "work area, here moto's in-memory bucket):", "",
              "| transport | " + " | ".join(label for label, _, _ in PHASES) + " | other |",
              "|---|" + "---:|" * (len(PHASES) + 1)]
    for t in transports:
        mine = [r for r in done if r.transport == t]
        cells = [record.median([r.phases.get(label, 0.0) for r in mine]) for label, _, _ in PHASES]
        other = record.median([r.cpu - sum(r.phases.values()) for r in mine])
        lines.append(f"| {t} | " + " | ".join(f"{c:.3f}" for c in cells) + f" | {other:.3f} |")
    if {"crt", "botocore"} <= set(rates):
        ratio = rates["crt"] / rates["botocore"]
        lines += ["", f"Goal (issue 19): copies per CPU-second in the CopyChunk handler >= 5 x botocore's: "
                      f"{ratio:.2f} x, {'met' if ratio >= 5 else '**not met**'}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=5000, help="objects of 1 KiB to copy (default 5000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per transport (default 3)")
    parser.add_argument("--transports", default=",".join(TRANSPORTS), help="comma-separated (default: crt,botocore)")
    args = parser.parse_args(argv)
    transports = args.transports.split(",")
    if set(transports) - set(TRANSPORTS):
        parser.error(f"transports are {', '.join(TRANSPORTS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    header = record.header("CopyChunk handler: copies per CPU-second (`bench/copy_chunk.py`)",
                           ("boto3", "awscrt", "moto"))
    os.environ.update(aws_env(BUCKETSYNC_REPORT_DIR=str(OUT / "reports")))
    buckets = [SOURCE] + [f"warm-{t}" for t in transports] + \
        [f"dst-{t}-{r}" for t in transports for r in range(args.rounds)]
    with rclone_s3(OUT / "copy-chunk-data", buckets, SOURCE, args.objects) as server:
        print(f"{args.objects:,} x 1 KiB objects in s3://{SOURCE} on rclone serve s3 at {server}", flush=True)
        done = rounds(server, args.objects, args.rounds, transports)
    print(markdown(done, transports, header, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
