"""Never wrong, on a real SeaweedFS server.

What a server does not store as written is found out, reported as failed,
and never becomes a delete (the read-back, bucketsync/copy/readback.py). SeaweedFS it stores `/lead.txt` as `lead.txt`, `a//b.txt` as
`a/b.txt`, `win\\path.txt` as `win/path.txt`, and a `dir/` key with content
as an empty folder. HEAD finds the respelled object under either spelling:
only a listing tells."""
import pytest

from tests.backends import cross_backend, seaweed_backend

pytestmark = pytest.mark.integration

RESPELLED = {"/lead.txt": b"leading slash", "a//b.txt": b"double slash", "win\\path.txt": b"backslash",
             "dir/": b"a folder marker with content"}
PLAIN = {"ok.txt": b"fine", "dir/x": b"x", "sub/y.txt": b"y"}


@pytest.fixture(params=["aws->seaweedfs", "seaweedfs"])
def backend(request, seaweedfs, report_dir):
    if request.param == "seaweedfs":   # one server: server-side copies
        with seaweed_backend(seaweedfs, report_dir) as b:
            yield b
    else:                              # moto as AWS -> SeaweedFS: streamed copies
        with cross_backend(request.param, (seaweedfs, seaweedfs), report_dir) as b:
            yield b


@pytest.fixture
def from_aws(seaweedfs, report_dir):
    """moto standing in for AWS, which keeps every spelling, as the source."""
    with cross_backend("aws->seaweedfs", (seaweedfs, seaweedfs), report_dir) as b:
        yield b


def test_keys_the_destination_respells_fail_every_run_and_nothing_is_deleted(from_aws):
    backend = from_aws
    source, destination = backend.buckets()
    for key, body in {**RESPELLED, **PLAIN}.items():
        backend.put(source, key, body)
    backend.put(destination, "stale.txt", b"absent at the source")

    for run in range(2):
        outcome = backend.sync({"source": source, "destination": destination, "max_delete": "100%"})
        out = outcome.output
        assert not outcome.ok and out["failed"] == len(RESPELLED), (run, out)
        assert set(out["failed_keys"]) == set(RESPELLED), out
        assert out["deleted"] == 0 and not out["deletes_ran"], "nothing unproven may lead to a delete"
        listing = backend.listing(destination)
        # The respelled copies stay where the server put them, the plain keys
        # are there, and the stale key waits for a run that proves everything.
        assert {"lead.txt", "a/b.txt", "win/path.txt", "stale.txt"} <= set(listing), listing
        assert all(key in listing for key in PLAIN)
    assert out["copied"] == 0 and out["verified"] == 0, "the plain keys were proven once, in run 1"


def test_plain_keys_are_verified_and_counted(backend):
    source, destination = backend.buckets()
    for key, body in PLAIN.items():
        backend.put(source, key, body)
    backend.put(destination, "stale.txt", b"absent at the source")
    outcome = backend.sync({"source": source, "destination": destination, "max_delete": "100%"})
    assert outcome.ok, (outcome.error, outcome.cause, outcome.output)
    assert outcome.output["verified"] == outcome.output["copied"] == len(PLAIN)
    assert outcome.output["verify"] == "listing" and outcome.output["deleted"] == 1
    deep = backend.sync({"source": source, "destination": destination, "verify": True})
    assert deep.ok and deep.output["copied"] == 0 and deep.output["verify"] == "listing+head"


MiB = 1024 * 1024


@pytest.mark.parametrize("kind", ["seaweedfs->aws", "aws->seaweedfs"])
@pytest.mark.parametrize("parts", [(5 * MiB + 3, 6 * MiB + 7, 1234),          # the last part tells
                                   (6 * MiB, 7 * MiB, 5 * MiB, 1234)],         # only the bytes read tell
                         ids=["uneven-last", "uneven-middle"])
def test_a_multipart_source_with_uneven_parts_streams_in_its_own_layout(seaweedfs, report_dir, kind, parts):
    with cross_backend(kind, (seaweedfs, seaweedfs), report_dir) as backend:
        source, destination = backend.buckets()
        backend.put_multipart(source, "uneven.bin", parts)
        first = backend.sync({"source": source, "destination": destination})
        assert first.ok and first.output["copied"] == 1, (first.error, first.cause, first.output)
        body = backend.client.get_object(Bucket=destination, Key="uneven.bin")["Body"].read()
        assert body == b"".join(bytes([n % 251]) * size for n, size in enumerate(parts, start=1))
        again = backend.sync({"source": source, "destination": destination})
        assert again.ok and again.output["copied"] == 0 and again.output["unchanged"] == 1


def test_check_metadata_finds_out_a_mend_of_a_folder_marker_that_does_not_take(from_aws):
    """SeaweedFS keeps no metadata or tags on a `dir/` marker (a folder): a
    mend is tried, found not to take, said once in a note, and the marker
    counts as unchanged, never as copied or updated again and again."""
    backend = from_aws
    source, destination = backend.buckets()
    backend.put(source, "dir/", b"", Metadata={"owner": "ops"}, Tagging="team=a")
    backend.put(source, "dir2/", b"", Metadata={"owner": "ops"})
    backend.put(source, "dir/file.txt", b"x", Metadata={"owner": "ops"})
    first = backend.sync({"source": source, "destination": destination})
    assert first.ok, (first.error, first.cause)
    for run in range(2):
        outcome = backend.sync({"source": source, "destination": destination, "check_metadata": True})
        out = outcome.output
        assert outcome.ok, (run, outcome.error, outcome.cause, out)
        assert out["copied"] == 0 and out["updated"] == 0 and out["unchanged"] == 3, (run, out)
        assert any("keeps no metadata or tags on folder markers" in n for n in outcome.notes), outcome.notes


def test_a_key_the_destination_would_store_over_another_is_never_written(from_aws):
    """The source has both `lead.txt` and `/lead.txt` (same size, other
    content); SeaweedFS stores both as `lead.txt`. Once `lead.txt` is there,
    `/lead.txt` fails unwritten (its HEAD answers with `lead.txt`'s object):
    `lead.txt` keeps its own content and is not copied again."""
    backend = from_aws
    source, destination = backend.buckets()
    backend.put(source, "lead.txt", b"the real one")
    backend.put(source, "/lead.txt", b"the slashed!")
    outcome = backend.sync({"source": source, "destination": destination, "exclude": ["/*"]})
    assert outcome.ok and outcome.output["copied"] == 1
    for run in range(2):
        outcome = backend.sync({"source": source, "destination": destination})
        out = outcome.output
        assert not outcome.ok and out["failed_keys"] == ["/lead.txt"] and out["copied"] == 0, (run, out)
        body = backend.client.get_object(Bucket=destination, Key="lead.txt")["Body"].read()
        assert body == b"the real one", "never overwritten by another key"


def test_the_mirror_never_takes_another_spelling_for_the_key(from_aws, tmp_path):
    """Events for `/lead` and `a//b` (keys AWS keeps, SeaweedFS respells):
    the mirror neither deletes the destination's `lead` for a deleted `/lead`
    nor writes `a//b` over the destination's `a/b`."""
    import io
    import json

    from bucketsync.local import direct
    backend = from_aws
    source, destination = backend.buckets()
    for key, body in {"lead": b"lead", "a/b": b"a-b", "a//b": b"a//b"}.items():
        backend.put(source, key, body)
    for key, body in {"lead": b"lead", "a/b": b"a-b"}.items():
        backend.put(destination, key, body)
    events = [{"source": "aws.s3", "detail-type": kind, "time": "2026-12-03T10:00:00Z",
               "detail": {"bucket": {"name": source}, "object": {"key": key}}}
              for kind, key in (("Object Deleted", "/lead"), ("Object Created", "a//b"))]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events))
    out, err = io.StringIO(), io.StringIO()
    status = direct.mirror_replay(str(path), source, destination, None, None, backend.destination_side.endpoint,
                               as_json=True, out=out, err=err)
    counts = json.loads(out.getvalue().strip().splitlines()[-1])
    assert counts["deleted"] == 0 and counts["copied"] == 0, (counts, err.getvalue())
    assert counts["failed"] == 1 and status != 0, "a//b cannot be stored as spelled: it fails, retried"
    listing = backend.listing(destination)
    assert set(listing) == {"lead", "a/b"}
    assert backend.client.get_object(Bucket=destination, Key="a/b")["Body"].read() == b"a-b"


def test_keys_xml_cannot_carry_are_deleted_one_by_one(seaweedfs, report_dir):
    """DeleteObjects' XML body cannot carry a key with a control character
    (the server answers MalformedXML for the whole batch): such keys are
    deleted with DeleteObject, and the rest of the batch as usual."""
    with seaweed_backend(seaweedfs, report_dir) as backend:
        source, destination = backend.buckets()
        backend.put(source, "keep", b"k")
        backend.put(destination, "keep", b"k")
        for key in ("stale0", "stale1", "z\x01ctl", "tab\there"):
            backend.put(destination, key, b"x")
        outcome = backend.sync({"source": source, "destination": destination, "max_delete": "100%"})
        assert outcome.ok and outcome.output["deleted"] == 4, (outcome.error, outcome.cause, outcome.output)
        assert set(backend.listing(destination)) == {"keep"}


@pytest.mark.parametrize("threads", [1, 8])
def test_two_keys_the_destination_stores_as_one_never_end_in_success(from_aws, threads):
    """`a/b` and `a//b` at the source; SeaweedFS stores both as `a/b`.
    Whichever is written first, the other is no "change by another writer"
    to skip: `a//b` fails every run, and `a/b` ends with its own content."""
    backend = from_aws
    source, destination = backend.buckets()
    backend.put(source, "a/b", b"plain")
    backend.put(source, "a//b", b"slash")
    for run in range(2):
        outcome = backend.sync({"source": source, "destination": destination}, copy_threads=threads)
        assert not outcome.ok and outcome.output["failed_keys"] == ["a//b"], (run, outcome.output)
    assert backend.client.get_object(Bucket=destination, Key="a/b")["Body"].read() == b"plain"
