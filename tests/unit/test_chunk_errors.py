"""Why a chunk did not finish, from the files a Distributed Map's
ResultWriter writes on AWS (moto writes only an empty manifest)."""
import json

from bucketsync import chunk_totals

RUN_INPUT = {"run": {"id": "r1"}, "chunk": {"number": 7}}
# Shaped as AWS documents the ResultWriter output: the manifest names the
# result files by status; a FAILED file is a JSON array of child executions
# whose Input is the item as a JSON string.
FILES = {
    ("work", "map-results/0c1d/manifest.json"): {
        "DestinationBucket": "work", "MapRunArn": "arn:aws:states:eu-west-1:1:mapRun:m/Copy:0c1d",
        "ResultFiles": {"FAILED": [{"Key": "map-results/0c1d/FAILED_0.json", "Size": 900}],
                        "PENDING": [], "SUCCEEDED": [{"Key": "map-results/0c1d/SUCCEEDED_0.json", "Size": 10}]}},
    ("work", "map-results/0c1d/FAILED_0.json"): [
        {"ExecutionArn": "arn:aws:states:eu-west-1:1:execution:m/Copy:a", "Input": json.dumps(RUN_INPUT),
         "InputDetails": {"Included": True}, "Name": "a", "Status": "FAILED", "Error": "Sandbox.Timedout",
         "Cause": "Task timed out after 900.00 seconds", "StartDate": 1700000000000, "StopDate": 1700000900000},
        {"ExecutionArn": "arn:aws:states:eu-west-1:1:execution:m/Copy:b",
         "Input": json.dumps({"run": {}, "chunk": {"number": 9}}), "Status": "FAILED", "Error": "MemoryError",
         "Cause": json.dumps({"errorType": "MemoryError", "errorMessage": "out of memory"})},
        {"ExecutionArn": "x", "Input": "not json", "Status": "FAILED", "Error": "X"}],
}
OUTPUT = {"MapRunArn": "arn:aws:states:eu-west-1:1:mapRun:m/Copy:0c1d",
          "ResultWriterDetails": {"Bucket": "work", "Key": "map-results/0c1d/manifest.json"}}


def test_failed_children_name_their_chunk_and_error(monkeypatch):
    monkeypatch.setattr(chunk_totals.s3, "get_json", lambda client, bucket, key, missing=None: FILES.get((bucket, key), missing))
    errors = chunk_totals.chunk_errors(OUTPUT, None)
    assert errors == {7: "Sandbox.Timedout: Task timed out after 900.00 seconds", 9: "MemoryError: out of memory"}
    assert chunk_totals.unfinished("copy", 7, errors) == \
        "copy chunk 7 did not finish (Sandbox.Timedout: Task timed out after 900.00 seconds)"
    assert chunk_totals.unfinished("copy", 8, errors) == "copy chunk 8 did not finish"


def test_no_result_writer_output_means_no_reasons(monkeypatch):
    def unreadable(*args, **kwargs):
        raise RuntimeError("AccessDenied")

    monkeypatch.setattr(chunk_totals.s3, "get_json", unreadable)
    assert chunk_totals.chunk_errors(None, None) == {} and chunk_totals.chunk_errors({}, None) == {}
    assert chunk_totals.chunk_errors(OUTPUT, None) == {}, "an unreadable manifest leaves the outcome alone"
