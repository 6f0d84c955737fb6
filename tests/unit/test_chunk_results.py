"""The result files' one encoder/decoder, and the plan totals' JSON form."""
import json

from bucketsync.observed import Observed, Seen
from bucketsync.diff import PlanTotals
from bucketsync.chunk_results import ActionResult, CopyResult, DeleteResult


def test_copy_result_survives_its_json_file():
    result = CopyResult(copied=2, bytes_copied=7, failed=1, failures=[{"key": "b", "error": "boom"}],
                        observed=Observed(tagging=Seen.UNSUPPORTED))
    result.actions = [ActionResult("a", 7, "copied", "new at the source"), ActionResult("b", 3, "failed", "boom")]
    document = json.loads(json.dumps(result.to_dict()))
    assert document["actions"][0] == ["a", 7, "copied", "new at the source"]   # compact: one list per key
    back = CopyResult.from_dict(document)
    assert back == result
    assert back.actions[1].reason == "boom"


def test_delete_result_counts_are_its_own():
    back = DeleteResult.from_dict({"deleted": 3, "skipped": 1, "actions": [["k", 1, "deleted", "absent"]]})
    assert (back.deleted, back.skipped, back.failed) == (3, 1, 0)
    assert DeleteResult.COUNTS == ("deleted", "failed", "skipped")
    assert back.actions == [ActionResult("k", 1, "deleted", "absent")]


def test_plan_totals_from_partial_json():
    totals = PlanTotals.from_dict({"copy": 2, "copy_bytes": 10, "check": 1, "check_bytes": 4, "meta": 3})
    assert totals.to_copy == (6, 14)
    assert PlanTotals.from_dict(None) == PlanTotals()   # a run that failed before planning
    assert PlanTotals.from_dict(totals.to_dict()) == totals
