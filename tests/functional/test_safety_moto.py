"""Safety cases on moto (in-process); see tests/safety_cases.py."""
import pytest

from tests.backends import moto_backend
from tests.safety_cases import *  # noqa: F401,F403


@pytest.fixture
def backend(report_dir):
    with moto_backend(report_dir) as b:
        yield b


def test_a_stale_upload_that_vanishes_before_its_abort_is_no_listing_problem(backend):
    """Listed, then completed or aborted by someone else before our abort
    (404 NoSuchUpload): the copy goes on and the report does not claim that
    uploads could not be listed."""
    from tests.faults import error_response, injecting
    from tests.safety_cases import run_report
    source, destination = backend.buckets()
    backend.put_multipart(source, "big.bin", (5 * 1024 * 1024, 10))
    stale = backend.client.create_multipart_upload(Bucket=destination, Key="big.bin")["UploadId"]

    def gone(request):
        if request.method == "DELETE" and f"uploadId={stale}" in request.url:
            return error_response(request.url, 404, "NoSuchUpload", "The specified upload does not exist.")
        return None

    with injecting(gone):
        outcome = backend.sync({"source": source, "destination": destination})
    assert outcome.ok and outcome.output["copied"] == 1
    run = run_report(outcome)["run"]
    assert "stale_uploads" not in run["server"]
    assert not any("could not be listed" in note for note in run["notes"])
