"""The deploy tooling stands apart from the local engine: `fab status`,
`fab start`, `fab versions` and `fab rollback` import no moto."""
import subprocess
import sys

import pytest

from bucketsync.deploy import tasks
from bucketsync.deploy.errors import DeployError


def test_deploy_tasks_import_no_moto():
    code = ("import sys, bucketsync.deploy.tasks, bucketsync.deploy.stack; "
            "print(sorted(m for m in sys.modules if m == 'moto' or m.startswith(('moto.', 'bucketsync.local.engine'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize("typed, number", [(None, None), ("3", 3), (7, 7)])
def test_rollback_to_takes_a_version_number(typed, number):
    assert tasks.version_number(typed) == number


@pytest.mark.parametrize("typed", ["latest", "-1", "0", "2.5", ""])
def test_rollback_to_anything_else_is_a_deploy_error(typed):
    with pytest.raises(DeployError, match="--to must be a version number"):
        tasks.version_number(typed)


def test_the_unit_tier_needs_no_emulator():
    """Unit tests are pure logic: moto, servers and the engine belong to the
    functional and integration tiers."""
    from pathlib import Path
    offenders = [path.name for path in Path(__file__).parent.glob("test_*.py")
                 if any(line.startswith(("from moto", "import moto", "from bucketsync.local import engine",
                                         "from bucketsync.local.engine", "from tests.backends", "from tests.servers"))
                        for line in path.read_text().splitlines())]
    assert offenders == []
