"""What a step hands Step Functions stays within its limits whatever the
input (bounds.py): an error's message is clipped (it becomes the Catch's
cause beside the state, 256 KiB in all, and a Fail state's cause, 32,768
characters); a run file gone from the work area is one clear error; a
report that cannot be written still releases the lease."""
import boto3
import pytest
from botocore.stub import Stubber

from bucketsync import bounds, steps
from bucketsync.errors import InvalidInputError, NoSuchKeyError
from bucketsync.stores import read_run_file
from bucketsync.work import Run


def test_an_input_error_quoting_a_huge_key_is_clipped_and_keeps_its_class():
    huge = "k" * 150_000
    with pytest.raises(InvalidInputError) as caught:
        steps.validate_input({"input": {"source": "a", "destination": "b", huge: 1}})
    assert len(str(caught.value)) <= bounds.ERROR_CHARS + 50
    assert str(caught.value).startswith("unknown input key(s)") and "characters)" in str(caught.value)


def test_short_errors_are_left_as_they_are():
    @bounds.bounded_errors
    def step():
        raise NoSuchKeyError("short")
    with pytest.raises(NoSuchKeyError, match="^short$"):
        step()


def test_a_run_file_the_work_bucket_expired_is_one_clear_error():
    work = boto3.client("s3", region_name="eu-west-1")
    with Stubber(work) as stub:
        stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
        with pytest.raises(NoSuchKeyError, match="WORK_BUCKET_RETENTION_DAYS"):
            read_run_file(work, "work", "runs/x/datasync/owned.json")


def test_a_report_that_cannot_be_written_still_releases_the_lease(monkeypatch):
    released = []
    monkeypatch.setattr(steps.run_summary, "summarize", lambda *a, **k: (_ for _ in ()).throw(OSError("disk")))
    monkeypatch.setattr(steps, "_release", released.append)
    run = Run(id="r", request=None, source_region=None, destination_region=None, work_bucket="w", work_prefix="p/")
    with pytest.raises(OSError):
        steps.report_failure({"run": run.to_dict(), "error": {"Error": "X", "Cause": "y"}})
    assert [r.id for r in released] == ["r"]
