"""The work bucket's state documents (stores.S3Store), through the S3
adapter's conditional read-modify-write, against a fake client: created only
if absent, replaced only if unchanged, read again when another writer came
first, and any other refusal one of the project's errors."""
import io
import json

import pytest
from botocore.exceptions import ClientError

from bucketsync import errors, stores


def refusal(status: int, code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       operation)


class FakeBucket:
    """One bucket's objects {key: (body, etag)}, with S3's conditions; `beaten`
    writes are refused as if another writer had come first (each once)."""

    def __init__(self, refuse: ClientError | None = None):
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.calls: list[tuple] = []
        self.beaten = 0
        self.refuse = refuse
        self.version = 0

    def get_object(self, Bucket, Key):
        self.calls.append(("get_object", Key))
        if Key not in self.objects:
            raise refusal(404, "NoSuchKey", "GetObject")
        body, etag = self.objects[Key]
        return {"Body": io.BytesIO(body), "ETag": etag}

    def _check(self, operation: str, Key, IfMatch=None, IfNoneMatch=None):
        if self.refuse is not None:
            raise self.refuse
        if self.beaten:
            self.beaten -= 1
            self.version += 1
            self.objects[Key] = (json.dumps({"other": self.version}).encode(), f'"other-{self.version}"')
            raise refusal(412, "PreconditionFailed", operation)
        current = self.objects.get(Key)
        if (IfNoneMatch == "*" and current is not None) or (IfMatch and (current is None or current[1] != IfMatch)):
            raise refusal(412, "PreconditionFailed", operation)

    def put_object(self, Bucket, Key, Body, ContentType, **condition):
        self.calls.append(("put_object", Key, condition))
        self._check("PutObject", Key, **condition)
        self.version += 1
        self.objects[Key] = (Body, f'"v{self.version}"')
        return {"ETag": f'"v{self.version}"'}

    def delete_object(self, Bucket, Key, IfMatch):
        self.calls.append(("delete_object", Key, {"IfMatch": IfMatch}))
        self._check("DeleteObject", Key, IfMatch=IfMatch)
        del self.objects[Key]
        return {}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(stores.time, "sleep", lambda seconds: None)


def test_a_new_document_is_created_only_if_absent_and_replaced_only_if_unchanged():
    bucket = FakeBucket()
    store = stores.S3Store(bucket, "work", "state/leases/")
    store.update("run", lambda doc: {"n": 1})
    store.update("run", lambda doc: {"n": doc["n"] + 1})
    assert [call[2] for call in bucket.calls if call[0] == "put_object"] == [{"IfNoneMatch": "*"},
                                                                            {"IfMatch": '"v1"'}]
    assert store.read("run") == {"n": 2}


def test_an_update_that_returns_the_document_unchanged_writes_nothing():
    bucket = FakeBucket()
    store = stores.S3Store(bucket, "work", "")
    store.update("run", lambda doc: {"n": 1})
    store.update("run", lambda doc: doc)
    assert [call[0] for call in bucket.calls] == ["get_object", "put_object", "get_object"]


def test_another_writer_first_means_reading_again_and_updating_what_it_wrote():
    bucket = FakeBucket()
    store = stores.S3Store(bucket, "work", "")
    store.update("run", lambda doc: {"n": 1})
    bucket.beaten = 2
    seen = []
    store.update("run", lambda doc: seen.append(doc) or {"n": 9})
    assert seen == [{"n": 1}, {"other": 2}, {"other": 3}]
    assert store.read("run") == {"n": 9}


def test_none_deletes_the_document_only_if_unchanged_and_absent_stays_absent():
    bucket = FakeBucket()
    store = stores.S3Store(bucket, "work", "")
    store.update("gone", lambda doc: None)
    assert [call[0] for call in bucket.calls] == ["get_object"]
    store.update("run", lambda doc: {"n": 1})
    bucket.beaten = 1
    store.update("run", lambda doc: None)
    deletes = [call[2] for call in bucket.calls if call[0] == "delete_object"]
    assert deletes == [{"IfMatch": '"v1"'}, {"IfMatch": '"other-2"'}]
    assert store.read("run") is None


def test_a_document_that_keeps_changing_is_a_transient_error():
    bucket = FakeBucket()
    bucket.beaten = stores.S3Store.ATTEMPTS
    with pytest.raises(errors.TransientError, match="kept changing"):
        stores.S3Store(bucket, "work", "").update("run", lambda doc: {"n": 1})


@pytest.mark.parametrize("refused, error", [(refusal(403, "AccessDenied", "PutObject"), errors.AccessDeniedError),
                                            (refusal(503, "SlowDown", "PutObject"), errors.TransientError)])
def test_other_refusals_are_the_projects_errors(refused, error):
    bucket = FakeBucket(refuse=refused)
    with pytest.raises(error, match="PutObject work/state/run"):
        stores.S3Store(bucket, "work", "state/").update("run", lambda doc: {"n": 1})
    assert len([call for call in bucket.calls if call[0] == "put_object"]) == 1


def test_a_refused_read_is_the_projects_error():
    class Unreadable(FakeBucket):
        def get_object(self, Bucket, Key):
            raise refusal(403, "AccessDenied", "GetObject")
    with pytest.raises(errors.AccessDeniedError, match="GetObject work/run"):
        stores.S3Store(Unreadable(), "work", "").update("run", lambda doc: {"n": 1})
