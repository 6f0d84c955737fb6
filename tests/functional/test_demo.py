"""`fab demo`, a newcomer's first sight of the tool: it succeeds, and says
nothing about its own embedded emulator as if it were the user's server;
the same finding on a server of the user's is still a note."""
import io
import json

import pytest

from bucketsync import server_findings
from bucketsync.local import demo
from bucketsync.observed import Observed, Seen
from bucketsync.diff import PlanTotals
from tests.backends import moto_backend

IGNORED_DELETE_CONDITION = "ignores the ETag condition of deletes"


def test_the_demo_makes_no_note_of_its_own_emulator(report_dir, monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_REPORT_DIR", str(report_dir))
    out, err = io.StringIO(), io.StringIO()
    assert demo.main(out=out, err=err) == 0, err.getvalue()
    assert "note:" not in err.getvalue()
    assert "second run copied 0 and deleted 0 objects" in out.getvalue()
    first = sorted(report_dir.glob("*.jsonl"))[0]
    run = json.loads(first.read_text().splitlines()[0])
    assert run["server"]["conditional_deletes"] == "ignored", "the report still records what was seen"
    assert not run["notes"]


def test_a_server_that_ignores_the_delete_condition_is_still_noted(report_dir):
    """moto stands in for a server of the user's (not the demo's emulator)."""
    with moto_backend(report_dir) as backend:
        source, destination = backend.buckets()
        backend.put(source, "a", b"a")
        backend.put(destination, "a", b"a")
        backend.put(destination, "gone", b"x")
        outcome = backend.sync({"source": source, "destination": destination})
    assert outcome.ok and outcome.output["deleted"] == 1
    assert any(IGNORED_DELETE_CONDITION in note for note in outcome.notes)


@pytest.mark.parametrize("emulated, noted", [(set(), True), ({"destination"}, False), ({"source"}, True)])
def test_notes_leave_out_only_the_emulated_sides_findings(emulated, noted):
    notes = server_findings.notes(Observed(conditional_deletes=Seen.IGNORED), PlanTotals(), None, emulated)
    assert any(IGNORED_DELETE_CONDITION in note for note in notes) is noted
