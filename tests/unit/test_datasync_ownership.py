"""Which DataSync tasks may run beside an object sync (datasync.ownership):
one that writes into the sync's destination must map keys as the sync does,
else its earlier days' output looks extra to the sync and is deleted."""
import pytest

from bucketsync.datasync.ownership import mapping_problem
from bucketsync.datasync.tasks import check_tasks
from bucketsync.sync_request import SyncRequest


@pytest.mark.parametrize("task_source, task_destination, sync, templates, refused", [
    # The sync's own mapping (README worked example 1), nested either way.
    ("s3://src/images/", "s3://dst/images/", ("", ""), True, False),
    ("s3://src/images/", "s3://dst/backup/images/", ("", "backup/"), True, False),
    ("s3://src/", "s3://dst/", ("images/", "images/"), True, False),
    # Into the sync's destination under another mapping.
    ("s3://src/images/", "s3://dst/archive/images/", ("", ""), True, True),
    ("s3://src/images/", "s3://dst/images/", ("", "mirror/"), True, False),   # outside the sync's scope
    ("s3://src/images/", "s3://dst/mirror/images/", ("", "mirror/"), True, False),
    ("s3://src/images/", "s3://dst/mirror/pics/", ("", "mirror/"), True, True),
    ("s3://other/images/", "s3://dst/images/", ("", ""), True, True),       # a source the sync does not read
    ("file:///srv/share", "s3://dst/share/", ("", ""), True, True),
    # No template: DataSync owns its whole location every run.
    ("file:///srv/share", "s3://dst/share/", ("", ""), False, False),
    ("s3://src/images/", "s3://other/images/", ("", ""), True, False),       # another destination bucket
])
def test_a_task_beside_a_sync_maps_keys_as_the_sync_does(task_source, task_destination, sync, templates, refused):
    spec = check_tasks({"t": {"source": task_source, "destination": task_destination}})["t"]
    request = SyncRequest("src", "dst", source_prefix=sync[0], destination_prefix=sync[1])
    problem = mapping_problem(request, spec, templates)
    assert (problem is not None) is refused, problem


@pytest.mark.parametrize("location", ["s3://dst//images/", "s3://dst/images//x/", "s3://dst/a\\b/",
                                      "s3://dst/./images/", "s3://dst/images/../x/"])
def test_a_task_folder_that_is_no_plain_path_is_refused(location):
    """`s3://archive//images/` would be judged outside a sync of
    `archive/images/` while a path-based server stores it there."""
    from bucketsync.errors import InvalidInputError
    with pytest.raises(InvalidInputError, match="plain path"):
        check_tasks({"t": {"source": "s3://src/images/", "destination": location}})
