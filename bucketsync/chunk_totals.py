"""The chunks' result files, read back and summed: counts, the first
failures, and the chunks without a result (a failure whatever the
orchestrator says: their Lambda never finished), with why from what the
Distributed Map wrote."""
from __future__ import annotations

import json
from typing import Iterator

from . import s3, threads
from .diff import COPY, DELETE, decode_action
from .chunk_results import ChunkResult, CopyResult, DeleteResult
from .observed import Observed
from .work import Run

KEPT_FAILURES = 1000        # failures kept in totals; the report lists every one
RESULTS: dict[str, type[ChunkResult]] = {COPY: CopyResult, DELETE: DeleteResult}


def chunk_results(run: Run, kind: str, work) -> Iterator[tuple[int, ChunkResult | None, list | None]]:
    """(number, result, None) per finished chunk of `kind`, in order, or
    (number, None, actions) for a chunk without a result file; `work`: the
    work area's client."""
    index = s3.get_json(work, run.work_bucket, run.index_key(kind), missing=[])

    def read(item):
        number = item["number"]
        result = s3.get_json(work, run.work_bucket, run.result_key(kind, number), missing=None)
        if result is None:   # the chunk never finished: all of it failed
            chunk = s3.get_json(work, run.work_bucket, run.chunk_key(kind, number))
            return number, None, [decode_action(kind, item) for item in chunk["actions"]]
        return number, RESULTS[kind].from_dict(result), None

    with threads.pool(16) as pool:
        yield from pool.map(read, index)


def chunk_errors(map_output: dict | None, work) -> dict[int, str]:
    """{chunk number: "Error: Cause"} for the children of a Distributed Map
    that failed, from what its ResultWriter wrote: `manifest.json` names the
    FAILED_n.json files, each a JSON array of child executions whose `Input`
    holds the chunk. Best effort: the chunks' own result files decide the
    outcome; this only says why a chunk has none."""
    details = (map_output or {}).get("ResultWriterDetails") or {}
    if not details.get("Bucket") or not details.get("Key"):
        return {}
    errors: dict[int, str] = {}
    try:
        manifest = s3.get_json(work, details["Bucket"], details["Key"], missing=None) or {}
        for file in (manifest.get("ResultFiles") or {}).get("FAILED") or ():
            for child in s3.get_json(work, details["Bucket"], file["Key"], missing=None) or ():
                number = _chunk_number(child.get("Input"))
                if number is not None:
                    cause = readable_cause(child.get("Cause"))
                    errors[number] = f"{child.get('Error') or 'failed'}: {cause}" if cause else str(child.get("Error"))
    except Exception as exc:   # noqa: BLE001 - the outcome stands without the reasons
        print(f"bucketsync: map results not read: {type(exc).__name__}: {exc}")
    return errors


def _chunk_number(child_input) -> int | None:
    if isinstance(child_input, str):
        try:
            child_input = json.loads(child_input)
        except ValueError:
            return None
    chunk = child_input.get("chunk") if isinstance(child_input, dict) else None
    number = chunk.get("number") if isinstance(chunk, dict) else None
    return number if isinstance(number, int) else None


def readable_cause(cause) -> str:
    """Lambda errors arrive as a JSON string with errorMessage; keep only that."""
    if isinstance(cause, str):
        try:
            parsed = json.loads(cause)
        except ValueError:
            return cause
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            return str(parsed["errorMessage"])
        return cause
    return "" if cause is None else json.dumps(cause)


def unfinished(kind: str, number: int, errors: dict[int, str]) -> str:
    why = f"{kind} chunk {number} did not finish"
    return f"{why} ({errors[number]})" if number in errors else why


def empty_totals(kind: str) -> dict:
    """The totals of `kind` with no result yet."""
    return dict(dict.fromkeys(RESULTS[kind].COUNTS, 0), failures=[], missing_chunks=[], observed={}, chunk_errors={})


def collect(run: Run, kind: str, map_output: dict | None, work) -> dict:
    """Totals over `kind`'s result files: counts, the first failures, chunks
    without a result (with why: the Map's FAILED results, read only when a
    chunk is missing), and what the servers were seen to do."""
    counts = RESULTS[kind].COUNTS
    totals = empty_totals(kind)
    observed = Observed()
    errors = None
    for number, result, lost in chunk_results(run, kind, work):
        if result is None:
            if errors is None:
                errors = chunk_errors(map_output, work)
            totals["missing_chunks"].append(number)
            totals["failed"] += len(lost)
            if number in errors:
                totals["chunk_errors"][str(number)] = errors[number]
            failures = [{"key": a.key, "error": unfinished(kind, number, errors)} for a in lost]
        else:
            for name in counts:
                totals[name] += getattr(result, name)
            failures = result.failures
            observed.merge(result.observed)
        totals["failures"].extend(failures[:KEPT_FAILURES - len(totals["failures"])])
    totals["observed"] = observed.to_dict()
    return totals

def copy_totals(run: Run, map_output: dict | None, work) -> dict:
    """The copy results summed: Tally sums them once and keeps the sum; a
    report made before Tally (a failure earlier on) sums them itself."""
    saved = s3.get_json(work, run.work_bucket, run.copy_totals_key, missing=None)
    if saved is not None:
        return saved
    totals = collect(run, COPY, map_output, work)
    s3.put_json(work, run.work_bucket, run.copy_totals_key, totals)
    return totals
