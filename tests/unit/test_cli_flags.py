"""Repeatable flags given without a value are refused, not read as "no filter"."""
import io
import json

import pytest

from bucketsync.project import options, terminal


@pytest.mark.parametrize("argv, missing", [
    (["sync", "--source", "a", "--include"], ["--include"]),
    (["sync", "--include", "--exclude", "x"], ["--include"]),
    (["sync", "--include=", "--source", "a"], ["--include"]),
    (["sync", "--exclude", "", "--source", "a"], ["--exclude"]),
    (["sync", "--include", "*.txt", "--exclude", "tmp/*"], []),
    (["sync", "--include=*.txt"], []),
    (["sync", "--source", "--include"], ["--include"]),
])
def test_flags_without_value(argv, missing):
    assert options.flags_without_value(argv) == missing


def test_refusal_is_one_line_and_json_when_asked():
    out, err = io.StringIO(), io.StringIO()
    status = options.refuse_flags_without_value(["sync", "--include"], True, out, err)
    assert status == terminal.EXIT_BAD_INPUT
    assert err.getvalue().count("\n") == 1 and "--include given without a value" in err.getvalue()
    assert json.loads(out.getvalue().splitlines()[-1])["error"] == "InvalidInputError"
