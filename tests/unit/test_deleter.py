"""The deleter and the mirror's reconciler with their clients passed in: a
fake destination that checks each key's ETag condition as S3 does, no
emulator. What the plan saw and what is there now decide each outcome."""
import pytest
from botocore.exceptions import ClientError

from bucketsync import settings
from bucketsync.deleter import ALREADY_GONE, delete_chunk
from bucketsync.diff import DeleteAction
from bucketsync.reconcile import Reconciler
from bucketsync.sync_request import validate
from bucketsync.work import Run


def refusal(status: int, code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       operation)


class FakeDestination:
    """Objects {key: etag}; DeleteObjects and DeleteObject honour the per-key
    ETag unless `conditions` is "rejected" (501 to any condition)."""

    def __init__(self, objects: dict[str, str], conditions: str = "honoured"):
        self.objects = dict(objects)
        self.conditions = conditions
        self.requests: list[tuple[str, list]] = []

    def _delete(self, key: str, etag: str | None) -> tuple[str, str] | None:
        if key not in self.objects:
            return ("NoSuchKey", "not found") if etag else None
        if etag and self.objects[key] != etag:
            return "PreconditionFailed", "the ETag differs"
        del self.objects[key]
        return None

    def delete_objects(self, Bucket, Delete):
        targets = [(o["Key"], o.get("ETag")) for o in Delete["Objects"]]
        self.requests.append(("DeleteObjects", targets))
        if self.conditions == "rejected" and any(etag for _, etag in targets):
            raise refusal(501, "NotImplemented", "DeleteObjects")
        errors = [(key, self._delete(key, etag)) for key, etag in targets]
        return {"Errors": [{"Key": key, "Code": code, "Message": message}
                           for key, refused in errors if refused for code, message in [refused]]}

    def delete_object(self, Bucket, Key, IfMatch=None):
        self.requests.append(("DeleteObject", [(Key, IfMatch)]))
        refused = self._delete(Key, IfMatch)
        if refused is not None:
            raise refusal(412 if refused[0] == "PreconditionFailed" else 404, refused[0], "DeleteObject")
        return {}

    def head_object(self, Bucket, Key):
        if Key not in self.objects:
            raise refusal(404, "404", "HeadObject")
        return {"ContentLength": 3, "ETag": self.objects[Key]}


class Absent:
    def head_object(self, Bucket, Key):
        raise refusal(404, "404", "HeadObject")


def run_to(destination_prefix: str = "d/", **given) -> Run:
    request = validate({"source": "src", "destination": "dst", "source_prefix": "s/",
                        "destination_prefix": destination_prefix, **given})
    return Run(id="r", request=request, source_region=None, destination_region=None,
               work_bucket="work", work_prefix="runs/r/")


def test_each_key_is_deleted_only_if_it_still_has_the_planned_etag():
    client = FakeDestination({"d/a": '"1"', "d/b": '"changed"'})
    actions = [DeleteAction("a", 1, '"1"'), DeleteAction("b", 1, '"2"'), DeleteAction("c", 1, '"3"')]
    result = delete_chunk(run_to(), client, actions)
    assert (result.deleted, result.skipped, result.failed) == (1, 2, 0)
    assert [(a.key, a.outcome) for a in result.actions] == [("a", "deleted"), ("b", "skipped"), ("c", "skipped")]
    assert result.actions[2].reason == ALREADY_GONE
    assert client.objects == {"d/b": '"changed"'}
    assert result.observed.to_dict()["conditional_deletes"] == "honoured"
    assert client.requests[1] == ("DeleteObjects", [("d/a", '"1"'), ("d/b", '"2"'), ("d/c", '"3"')])


def test_a_server_without_conditions_gets_the_batch_again_without_them():
    client = FakeDestination({"d/a": '"1"', "d/b": '"2"'}, conditions="rejected")
    result = delete_chunk(run_to(), client, [DeleteAction("a", 1, '"1"'), DeleteAction("b", 1, '"2"')])
    assert result.deleted == 2 and client.objects == {}
    assert result.observed.to_dict()["conditional_deletes"] == "rejected"
    assert client.requests[-1] == ("DeleteObjects", [("d/a", None), ("d/b", None)])


def test_a_key_xml_cannot_carry_is_deleted_alone_and_conditionally():
    key = "bell\x07"
    client = FakeDestination({"d/" + key: '"1"', "d/x": '"2"'})
    result = delete_chunk(run_to(), client, [DeleteAction(key, 1, '"1"'), DeleteAction("x", 1, '"2"')])
    assert result.deleted == 2
    assert ("DeleteObject", [("d/" + key, '"1"')]) in client.requests


def reconciler(destination, **given) -> Reconciler:
    return Reconciler(run_to(**given), settings.load(), Absent(), destination)


def test_a_key_gone_from_the_source_is_deleted_from_the_destination_as_it_is_now():
    destination = FakeDestination({"d/k": '"9"'})
    assert reconciler(destination).reconcile("k") == ("deleted", "absent at the source")
    assert destination.objects == {}
    assert destination.requests[-1] == ("DeleteObjects", [("d/k", '"9"')])


@pytest.mark.parametrize("objects, given, why", [({}, {}, "absent on both sides"),
                                                 ({"d/k": '"9"'}, {"delete": False},
                                                  "absent at the source; kept (delete is off)")])
def test_nothing_to_reconcile_touches_nothing(objects, given, why):
    destination = FakeDestination(objects)
    assert reconciler(destination, **given).reconcile("k") == ("unchanged", why)
    assert destination.requests == [] and destination.objects == objects
