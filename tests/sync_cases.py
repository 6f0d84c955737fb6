"""The sync semantics of DESIGN.md section 3, table-driven, run through the
real state machine on whichever backend the importing module provides as
the `backend` fixture (moto in tests/functional, SeaweedFS in
tests/integration). Every case is also run a second time, which must copy
and delete nothing (idempotence)."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bucketsync import report
from bucketsync.filters import KeyFilter
from bucketsync.local.verify import differences, snapshot
from bucketsync.sync_request import validate

MiB = 1024 * 1024
# A 1024-byte key whose path segments stay under 255 bytes (a filesystem-backed
# server's limit); S3 allows exactly 1024 bytes.
LONG_KEY = "/".join(["l" * 200] * 5) + "/" + "k" * (1024 - 5 * 201)
assert len(LONG_KEY.encode()) == 1024

SPECIAL_KEYS = ["folder/", "folder/inside.txt", "empty-file", "with space/and more.txt", "plus+sign.txt",
                "percent%2Fliteral.txt", "100%.txt", "café/naïve résumé.txt", "日本語/ファイル.txt",
                "emoji/🚀.txt", "tilde~/quote'.txt", "amp&eq=.txt", LONG_KEY]
META = dict(ContentType="text/csv", CacheControl="max-age=300", ContentDisposition='attachment; filename="r.csv"',
            ContentEncoding="identity", ContentLanguage="fr", Metadata={"owner": "team-a", "x-note": "spaces and = signs ok"})


def obj(body=b"", **kwargs):
    return {"body": body, **kwargs}


def multipart(*sizes, **kwargs):
    return {"parts": sizes, **kwargs}


@dataclass
class Case:
    id: str
    source: dict
    destination: dict = field(default_factory=dict)
    input: dict = field(default_factory=dict)
    expect: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


CASES = [
    Case("new", {"a.txt": obj(b"hello")}, {}, expect={"copied": 1, "deleted": 0, "unchanged": 0}),
    Case("changed-same-size", {"a.txt": obj(b"hello")}, {"a.txt": obj(b"jello")},
         expect={"copied": 1, "unchanged": 0}),
    Case("changed-size", {"a.txt": obj(b"hello!")}, {"a.txt": obj(b"hi")}, expect={"copied": 1}),
    Case("unchanged", {"a.txt": obj(b"same"), "b.txt": obj(b"same too")},
         {"a.txt": obj(b"same"), "b.txt": obj(b"same too")}, expect={"copied": 0, "unchanged": 2}),
    Case("extra-at-destination", {"a.txt": obj(b"a"), "b.txt": obj(b"b")},
         {"a.txt": obj(b"a"), "b.txt": obj(b"b"), "zz-extra.txt": obj(b"x")},
         expect={"copied": 0, "deleted": 1, "unchanged": 2}),
    Case("no-delete-keeps-extras", {"a.txt": obj(b"a")}, {"extra.txt": obj(b"x")}, input={"delete": False},
         expect={"copied": 1, "deleted": 0}),
    Case("special-keys", {k: obj(b"" if k.endswith("/") or k == "empty-file" else k.encode()) for k in SPECIAL_KEYS},
         {}, expect={"copied": len(SPECIAL_KEYS)}),
    Case("zero-byte-over-existing", {"z": obj(b"")}, {"z": obj(b"not empty")}, expect={"copied": 1}),
    Case("metadata-and-tags", {"m.csv": obj(b"a,b\n1,2\n", Tagging="team=a&cost%20centre=42", **META),
                               "plain.bin": obj(b"\x00\x01", Tagging="only=tag")},
         {}, expect={"copied": 2}),
    Case("multipart-source", {"big.bin": multipart(5 * MiB, 5 * MiB, 1000, ContentType="video/mp4",
                                                   Metadata={"k": "v"}, Tagging="t=1")},
         {}, expect={"copied": 1, "bytes_copied": 10 * MiB + 1000}),
    Case("single-part-above-threshold", {"big.bin": obj(b"ab" * (3 * MiB), Metadata={"k": "v"}, Tagging="t=2")},
         {}, settings={"multipart_threshold": 5 * MiB, "part_size": 5 * MiB}, expect={"copied": 1}),
    Case("multipart-replaces-changed", {"big.bin": multipart(5 * MiB, 1000)}, {"big.bin": obj(b"y" * (5 * MiB + 1000))},
         expect={"copied": 1}),
    Case("prefix-scopes-both-sides", {"in/a": obj(b"1"), "in/b": obj(b"2"), "out/c": obj(b"3")},
         {"in/b": obj(b"2"), "in/old": obj(b"x"), "other/keep": obj(b"k")}, input={"prefix": "in/"},
         expect={"copied": 1, "deleted": 1, "unchanged": 1}),
    Case("prefix-remap", {"2024/a": obj(b"1"), "2024/sub/b": obj(b"2"), "2025/c": obj(b"3")},
         {"archive/2024/sub/b": obj(b"2"), "archive/2024/gone": obj(b"x"), "archive/other": obj(b"o"),
          "root": obj(b"r")},
         input={"source_prefix": "2024/", "destination_prefix": "archive/2024/"},
         expect={"copied": 1, "deleted": 1, "unchanged": 1}),
    Case("include-exclude", {"a.txt": obj(b"1"), "b.log": obj(b"2"), "tmp/c.txt": obj(b"3"), "d.txt": obj(b"4")},
         {"d.txt": obj(b"4"), "old.txt": obj(b"x"), "kept.log": obj(b"not in scope")},
         input={"include": ["*.txt"], "exclude": ["tmp/*"]}, expect={"copied": 1, "deleted": 1, "unchanged": 1}),
]


def seed(backend, bucket: str, objects: dict) -> None:
    for key, spec in objects.items():
        spec = dict(spec)
        if "parts" in spec:
            backend.put_multipart(bucket, key, spec.pop("parts"), **spec)
        else:
            backend.put(bucket, key, spec.pop("body"), **spec)


def assert_destination_matches(backend, source, destination, execution_input, destination_before):
    request = validate(execution_input)
    keep = KeyFilter(request.include, request.exclude)
    sp, dp = request.source_prefix, request.destination_prefix

    def in_scope(key, prefix):
        return key.startswith(prefix) and keep(key[len(prefix):])

    src = {k[len(sp):]: v for k, v in snapshot(backend.client, source).items() if in_scope(k, sp)}
    after = snapshot(backend.client, destination)
    dst = {k[len(dp):]: v for k, v in after.items() if in_scope(k, dp)}
    if request.delete:
        assert differences(src, dst) == [], differences(src, dst)
    else:
        assert differences(src, {k: v for k, v in dst.items() if k in src}) == []
        extras_before = {k: v for k, v in destination_before.items() if in_scope(k, dp) and k[len(dp):] not in src}
        assert {k: after.get(k) for k in extras_before} == extras_before
    # Out of scope: untouched.
    assert ({k: v for k, v in after.items() if not in_scope(k, dp)}
            == {k: v for k, v in destination_before.items() if not in_scope(k, dp)})


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sync_semantics(backend, case: Case):
    source, destination = backend.buckets()
    seed(backend, source, case.source)
    seed(backend, destination, case.destination)
    execution_input = dict(case.input, source=source, destination=destination)
    before = snapshot(backend.client, destination)

    first = backend.sync(execution_input, **case.settings)
    assert first.ok, (first.error, first.cause, first.output)
    assert {k: first.output[k] for k in case.expect} == case.expect, first.output
    assert first.output["failed"] == 0 and first.output["dry_run"] is False
    assert_destination_matches(backend, source, destination, execution_input, before)

    second = backend.sync(execution_input, **case.settings)
    assert second.ok, (second.error, second.cause)
    assert (second.output["copied"], second.output["deleted"]) == (0, 0)


def test_multipart_copy_keeps_layout_and_etag(backend):
    source, destination = backend.buckets()
    backend.put_multipart(source, "mp.bin", (5 * MiB, 5 * MiB, 777))
    outcome = backend.sync({"source": source, "destination": destination})
    assert outcome.ok and outcome.output["copied"] == 1
    src, dst = backend.listing(source), backend.listing(destination)
    assert src["mp.bin"][0] == dst["mp.bin"][0]
    assert dst["mp.bin"][1].strip('"').endswith("-3"), "the source's three-part layout is kept"
    if backend.equal_multipart_etags:
        assert src["mp.bin"][1] == dst["mp.bin"][1]
    head = backend.client.head_object(Bucket=destination, Key="mp.bin", PartNumber=2)
    assert head["ContentLength"] == 5 * MiB


def test_dry_run_writes_nothing_and_predicts_the_real_run(backend):
    source, destination = backend.buckets()
    seed(backend, source, {"new": obj(b"n"), "changed": obj(b"abc"), "same": obj(b"s"), "resized": obj(b"12345"),
                           "mp": multipart(5 * MiB, 10)})
    seed(backend, destination, {"changed": obj(b"xyz"), "same": obj(b"s"), "resized": obj(b"1"),
                                "gone-1": obj(b"g"), "mp": multipart(5 * MiB, 10)})
    execution_input = {"source": source, "destination": destination, "max_delete": "100%"}

    def state():
        return {bucket: (backend.listing(bucket), snapshot(backend.client, bucket)) for bucket in (source, destination)}

    before = state()
    dry = backend.sync(dict(execution_input, dry_run=True))
    assert dry.ok, (dry.error, dry.cause)
    assert dry.output["dry_run"] is True
    assert state() == before, "a dry run wrote to a bucket"
    real = backend.sync(execution_input)
    assert real.ok
    for name in ("copied", "deleted", "unchanged", "failed", "bytes_copied"):
        assert dry.output[name] == real.output[name], name
    assert (real.output["copied"], real.output["deleted"]) == (3, 1)


def _metadata_drift(backend):
    """Same content on both sides; the destination's metadata or tags differ."""
    source, destination = backend.buckets()
    both = {"same": obj(b"s", ContentType="text/plain", Metadata={"a": "1"}, Tagging="t=1")}
    src = dict(both, **{
        "content-type": obj(b"m", ContentType="text/csv"),
        "user-metadata": obj(b"u", Metadata={"a": "2", "b": "new"}),
        "cache-control-on-empty": obj(b"", CacheControl="no-cache"),
        "tags-differ": obj(b"t", Tagging="t=new&u=2"),
        "tags-removed": obj(b"r"),
        "multipart": multipart(5 * MiB, 10, ContentType="video/mp4", Metadata={"k": "v"}),
    })
    dst = dict(both, **{
        "content-type": obj(b"m", ContentType="text/plain"),
        "user-metadata": obj(b"u", Metadata={"a": "1"}),
        "cache-control-on-empty": obj(b""),
        "tags-differ": obj(b"t", Tagging="t=old"),
        "tags-removed": obj(b"r", Tagging="stale=1"),
        "multipart": multipart(5 * MiB, 10, ContentType="application/octet-stream", Metadata={"k": "v"}),
    })
    seed(backend, source, src)
    seed(backend, destination, dst)
    return source, destination


def test_check_metadata_mends_metadata_and_tags_of_same_content_objects(backend):
    source, destination = _metadata_drift(backend)
    execution_input = {"source": source, "destination": destination}

    plain = backend.sync(execution_input)   # content only, as aws s3 sync: nothing to do
    assert plain.ok and (plain.output["copied"], plain.output["updated"]) == (0, 0)
    assert differences(snapshot(backend.client, source), snapshot(backend.client, destination)) != []

    before = snapshot(backend.client, destination)
    dry = backend.sync(dict(execution_input, check_metadata=True, dry_run=True))
    assert dry.ok, (dry.error, dry.cause)
    assert snapshot(backend.client, destination) == before, "a dry run wrote"
    outcomes = {a["key"]: a["outcome"] for a in report.read(dry.report_path.open())["actions"]}
    assert outcomes == {"same": "unchanged", "content-type": "would-copy", "user-metadata": "would-copy",
                        "cache-control-on-empty": "would-copy", "multipart": "would-copy",
                        "tags-differ": "would-update", "tags-removed": "would-update"}

    real = backend.sync(dict(execution_input, check_metadata=True))
    assert real.ok, (real.error, real.cause)
    assert {k: real.output[k] for k in ("copied", "updated", "unchanged", "failed")} == \
        {"copied": 4, "updated": 2, "unchanged": 1, "failed": 0}
    assert differences(snapshot(backend.client, source), snapshot(backend.client, destination)) == []
    lines = {a["key"]: a for a in report.read(real.report_path.open())["actions"]}
    assert "ContentType" in lines["content-type"]["reason"]
    assert "x-amz-meta-a" in lines["user-metadata"]["reason"] and "x-amz-meta-b" in lines["user-metadata"]["reason"]
    if backend.equal_multipart_etags:   # the mending copy keeps the part layout, so the ETags stay equal
        assert backend.listing(source)["multipart"] == backend.listing(destination)["multipart"]

    again = backend.sync(dict(execution_input, check_metadata=True))
    assert again.ok and (again.output["copied"], again.output["updated"]) == (0, 0)
    assert again.output["unchanged"] == 7


def test_check_metadata_input_is_validated(backend):
    source, destination = backend.buckets()
    outcome = backend.sync({"source": source, "destination": destination, "check_metadata": "yes"})
    assert not outcome.ok and outcome.error == "InvalidInputError"
    assert "check_metadata" in outcome.cause


# Keys a server may list out of UTF-8 byte order: SeaweedFS lists a folder's
# contents where the folder's name sorts ("d/1.txt" before "d.txt", as "d"
# sorts before "d.txt"), while "-" (0x2d) and "." (0x2e) sort before "/" (0x2f).
# (No key "d" beside "d/...": a filesystem-backed server cannot hold both.)
ORDER_KEYS = ["d.txt", "d/1.txt", "d/e.txt", "d/e/f.txt", "d/e/f/g.txt", "d-1", "d0", "d.txt.bak",
              "a/b/c.txt", "a.b", "a-b/x", "a0/y", "z/z/z.txt", "z.z", "é/x", "é.txt"]


def test_any_listing_order(backend):
    """Both sides hold keys a folder-ordered listing puts out of byte order;
    the destination already has some of them (one stale, one extra). The run
    must end equal (nothing deleted that the source has), and a second run
    must copy and delete nothing."""
    source, destination = backend.buckets()
    seed(backend, source, {key: obj(key.encode()) for key in ORDER_KEYS})
    seed(backend, destination, {"d.txt": obj(b"d.txt"), "d/1.txt": obj(b"stale!!"), "d/old.txt": obj(b"x"),
                                "d-1": obj(b"d-1"), "a.b": obj(b"a.b")})
    execution_input = {"source": source, "destination": destination, "max_delete": "100%"}
    first = backend.sync(execution_input)
    assert first.ok, (first.error, first.cause)
    assert (first.output["deleted"], first.output["failed"]) == (1, 0), first.output
    assert first.output["copied"] == len(ORDER_KEYS) - 3, first.output
    assert differences(snapshot(backend.client, source), snapshot(backend.client, destination)) == []
    second = backend.sync(execution_input)
    assert second.ok and (second.output["copied"], second.output["deleted"]) == (0, 0)
    assert second.output["unchanged"] == len(ORDER_KEYS)
