"""Delete guards, decided on the plan's totals before any write."""
import pytest

from bucketsync.errors import DeleteGuardError
from bucketsync.guards import check_delete_guards
from bucketsync.plan import PlanTotals
from bucketsync.request import validate


def totals(source, destination, delete):
    return PlanTotals(source_objects=source, destination_objects=destination, delete=delete)


@pytest.mark.parametrize("extra, t, message", [
    ({}, totals(0, 5, 5), "lists no objects but the destination has 5"),
    ({"max_delete": 2}, totals(10, 10, 3), "3 deletes planned but max_delete 2 allows 2"),
    ({}, totals(30, 30, 16), "16 deletes planned but max_delete '50%' allows 15 (of 30"),
    ({"allow_empty_source": True}, totals(0, 40, 40), "max_delete '50%' allows 20"),
    ({"max_delete": "0%"}, totals(3, 3, 1), "1 deletes planned but max_delete '0%' allows 0"),
])
def test_guard_stops(extra, t, message):
    request = validate(dict({"source": "src-bucket", "destination": "dst-bucket"}, **extra))
    with pytest.raises(DeleteGuardError, match=message.replace("(", r"\(").replace("'", "'")):
        check_delete_guards(request, t)


@pytest.mark.parametrize("extra, t", [
    ({}, totals(10, 10, 5)),
    ({}, totals(3, 3, 2)),          # 67 %, but within the floor of 10
    ({"allow_empty_source": True}, totals(0, 4, 4)),
    ({}, totals(0, 0, 0)),
    ({"delete": False}, totals(0, 100, 100)),
    ({"allow_empty_source": True, "max_delete": "100%"}, totals(0, 4, 4)),
    ({"max_delete": 0}, totals(3, 3, 0)),
])
def test_guard_allows(extra, t):
    request = validate(dict({"source": "src-bucket", "destination": "dst-bucket"}, **extra))
    check_delete_guards(request, t)
