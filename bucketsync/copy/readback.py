"""Read back what a copy chunk wrote, before any delete may run.

A server may accept a write and store something else: SeaweedFS stores
`/lead.txt` as `lead.txt`, `a//b.txt` as `a/b.txt`, `win\\path.txt` as
`win/path.txt`, and a `dir/` key with content as an empty folder. A HEAD of
the spelling written finds the normalised object, so only a listing shows
it: the next run would plan the key as missing (copy again) and the stored
spelling as extra (delete). So every chunk reads its writes back as DataSync's
VerifyMode does, cheaply: the destination's listing over the written keys
(LIST requests only) must show each key exactly as written, with the size
written. What it does not show is a failed object (a failure blocks the run's
deletes): whatever the tool cannot prove it wrote is never the basis of a
delete, and a key the destination cannot store is reported every run, never
counted as copied.

With `verify` (opt-in, as DataSync's ONLY_FILES_TRANSFERRED) each written
object is also read with one HEAD: its ETag, or its `bucketsync-source-etag`
stamp, must be the source ETag that was copied.

Cost of the listing: each request starts just before the next written key
not yet passed (StartAfter), so a dense chunk (a first sync) costs one LIST
per 1,000 keys and a sparse one at most one LIST per written key. On servers
other than AWS the same holds per folder (see `listed_sizes`), except for
keys a path-based server may respell, whose folder is listed from its start.
"""
from __future__ import annotations

from .. import s3, threads
from ..errors import BucketsyncError, NoSuchKeyError
from ..chunk_results import CopyResult
from ..work import Run
from .sameness import verify_problem

def prove(run: Run, result: CopyResult, written: dict[str, tuple[int, str]], client, threads_count: int,
          retry_seconds: float = 0) -> None:
    """Check the chunk's writes (`written`: relative key -> (bytes, source
    ETag)) at the destination; those not proven become failures in `result`,
    the others count as `verified`."""
    if not written:
        return
    request = run.request
    full = {request.destination_prefix + key: key for key in written}
    try:
        listed = s3.retrying(lambda: listed_sizes(client, request.destination, request.destination_prefix,
                                                 set(full), run.destination_endpoint.on_aws), retry_seconds)
    except BucketsyncError as exc:
        problems = {key: f"written, but not verified: the destination could not be listed ({type(exc).__name__}: "
                         f"{exc}); no deletes run" for key in written}
    else:
        problems = {relative: why for key, relative in full.items()
                    if (why := listing_problem(key, written[relative][0], listed.get(key))) is not None}
    if request.verify:
        def head(relative):
            size, etag = written[relative]
            return relative, head_problem(client, request.destination, request.destination_prefix + relative,
                                          size, etag, retry_seconds)
        with threads.pool(threads_count) as pool:
            for relative, why in pool.map(head, [k for k in written if k not in problems]):
                if why is not None:
                    problems[relative] = why
    result.unproven(problems)
    result.verified += len(written) - len(problems)


def listed_sizes(client, bucket: str, prefix: str, keys: set[str], on_aws: bool) -> dict[str, int]:
    """{key: listed size} for the `keys` (full keys) the destination lists
    exactly so spelled.

    AWS lists in UTF-8 order and applies StartAfter exactly: one walk over
    the run's prefix that jumps to the next key not yet seen. Other servers
    may not (SeaweedFS skips `a/...` after StartAfter `a`, and answers
    `a//x` after StartAfter `a//` although it stores `a/x`): there each folder
    written into is listed alone, its direct entries only (Delimiter "/"),
    jumping with StartAfter only inside the folder, and only for keys whose
    spelling a path-based server keeps; other keys are looked for in the
    folder's listing from its start."""
    if on_aws:
        return _walk(client, bucket, prefix, None, sorted(keys), jump=True)
    folders: dict[tuple[str, bool], list[str]] = {}
    for key in keys:
        folders.setdefault((key[:key.rfind("/") + 1], path_like(key)), []).append(key)
    found: dict[str, int] = {}
    for (folder, plain), members in sorted(folders.items()):
        found.update(_walk(client, bucket, folder, "/", sorted(members), jump=plain))
    return found


def path_like(key: str) -> bool:
    """Whether a path-based server stores the key as spelled, so that a
    StartAfter inside its folder means what it says: a file name (not a
    folder marker) with no empty, "." or ".." segment and no backslash."""
    segments = key.split("/")
    return "\\" not in key and all(s not in ("", ".", "..") for s in segments)


def _walk(client, bucket: str, prefix: str, delimiter: str | None, pending: list[str], jump: bool) -> dict[str, int]:
    """Sizes of the `pending` keys (sorted) found in the listing of `prefix`:
    with `jump`, each request starts just before the first key not yet passed
    (so a request never lists what lies between two written keys twice, nor
    more than a page past the last); else pages from the start, until every
    key is found or the listing ends."""
    wanted = set(pending)
    found: dict[str, int] = {}
    index, after, token = 0, "", None
    while True:
        start = max(pending[index][:-1], after) if jump else None
        page, folders, token = s3.list_page(client, bucket, prefix, start, delimiter, None if jump else token)
        found.update((key, size) for key, size in page.items() if key in wanted)
        if token is None or len(found) == len(wanted):
            return found
        if jump:
            highest = max([*page, *folders], default="")
            if highest <= after:   # no progress: a server that ignores StartAfter
                return found
            after = highest
            while index < len(pending) and pending[index] <= highest:
                index += 1
            if index == len(pending):
                return found


def listing_problem(key: str, written_size: int, listed_size: int | None) -> str | None:
    if listed_size is None:
        return (f"written, but the destination lists no object {key!r}: it stored the key under another "
                f"spelling (servers that turn '//' into '/', drop a leading '/' or read '\\' as '/' do) or "
                f"lost it; not counted as copied, and no deletes run. Exclude the key, or rename it at the source")
    if listed_size != written_size:
        return (f"written with {written_size} bytes, but the destination lists {listed_size} (servers that keep "
                f"'dir/' keys as folders drop their content); not counted as copied, and no deletes run")
    return None


def head_problem(client, bucket: str, key: str, size: int, etag: str, retry_seconds: float = 0) -> str | None:
    """For `verify`: why the destination object is not provably the source
    object copied (size, and ETag or stamp equal to the source ETag), or None."""
    try:
        head = s3.retrying(lambda: s3.head_object(client, bucket, key), retry_seconds)
    except NoSuchKeyError:
        return "written, but a HEAD of the destination finds no object; not counted as copied"
    except BucketsyncError as exc:
        return f"written, but not verified: HEAD failed ({type(exc).__name__}: {exc})"
    return verify_problem(head, size, etag)
