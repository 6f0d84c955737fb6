"""Delete guards, decided on the plan's totals before any write."""
import pytest

from bucketsync.errors import DeleteGuardError
from bucketsync.guards import check_delete_guards
from bucketsync.diff import PlanTotals
from bucketsync.sync_request import validate


def totals(source, destination, delete):
    return PlanTotals(source_objects=source, destination_objects=destination, delete=delete)


@pytest.mark.parametrize("extra, t, message", [
    ({}, totals(0, 5, 5), "lists no objects but the destination has 5"),
    ({"max_delete": 2}, totals(10, 10, 3), "3 deletes planned but max_delete 2 allows 2"),
    ({}, totals(30, 30, 16), "16 deletes planned but max_delete '50%' (the default: half of the destination's "
                             "objects, or up to 10 while the source lists at least half as many objects as the "
                             "destination) allows 15 (of 30 destination objects; the source lists 30)"),
    ({"allow_empty_source": True}, totals(0, 40, 40), "max_delete '50%' (the default"),
    ({"max_delete": "0%"}, totals(3, 3, 1), "1 deletes planned but max_delete '0%' (of the destination's objects, "
                                            "rounded down) allows 0"),
    # The default's floor needs a source that lists at least half as many
    # objects: 1 of 11 left looks like a wrong prefix, not tidying.
    ({}, totals(1, 11, 10), "10 deletes planned but max_delete '50%' (the default"),
    # A percentage the user gives has no floor.
    ({"max_delete": "1%"}, totals(100, 100, 10), "10 deletes planned but max_delete '1%' (of the destination's "
                                                 "objects, rounded down) allows 1"),
    ({"allow_empty_source": True}, totals(0, 4, 4), "allows 2"),
])
def test_guard_stops(extra, t, message):
    request = validate(dict({"source": "src-bucket", "destination": "dst-bucket"}, **extra))
    with pytest.raises(DeleteGuardError) as caught:
        check_delete_guards(request, t)
    assert message in str(caught.value)


@pytest.mark.parametrize("extra, t", [
    ({}, totals(10, 10, 5)),
    ({}, totals(3, 3, 2)),          # 67 %, but within the default's floor of 10
    ({}, totals(11, 11, 10)),       # the source lists as many: tidying, within the floor
    ({}, totals(0, 0, 0)),
    ({"delete": False}, totals(0, 100, 100)),
    ({"allow_empty_source": True, "max_delete": "100%"}, totals(0, 4, 4)),
    ({"max_delete": 0}, totals(3, 3, 0)),
])
def test_guard_allows(extra, t):
    request = validate(dict({"source": "src-bucket", "destination": "dst-bucket"}, **extra))
    check_delete_guards(request, t)
