"""The YAML definition checked against the code (DESIGN.md section 7)."""
import inspect
import re

import pytest

from bucketsync import errors, work
from bucketsync.project import definition
from bucketsync.project.frontmatter import FrontMatterError, lambda_files, parse

DEFINITION = definition.load()
FILES = {f.arn_placeholder: f for f in lambda_files()}
ERROR_CLASSES = {name for name, cls in inspect.getmembers(errors, inspect.isclass)
                 if issubclass(cls, errors.BucketsyncError)}


def all_states(states=DEFINITION["States"], path=""):
    for name, state in states.items():
        yield f"{path}{name}", state, states
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from all_states(processor["States"], f"{path}{name}/")


STATES = list(all_states())
TASKS = [(name, state) for name, state, _ in STATES if state["Type"] == "Task"]


def test_start_at_exists():
    assert DEFINITION["StartAt"] in DEFINITION["States"]


@pytest.mark.parametrize("name, state, scope", STATES, ids=[s[0] for s in STATES])
def test_every_transition_exists(name, state, scope):
    targets = [state.get("Next"), state.get("Default")]
    targets += [c.get("Next") for c in state.get("Choices", [])]
    targets += [c.get("Next") for c in state.get("Catch", [])]
    for target in filter(None, targets):
        assert target in scope, f"{name} -> {target!r} does not exist"
    if state["Type"] not in ("Choice", "Succeed", "Fail"):
        assert state.get("Next") or state.get("End"), f"{name} has neither Next nor End"


def test_every_state_is_reachable():
    def reachable(states, start):
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            s = states[name]
            todo += [t for t in [s.get("Next"), s.get("Default")] if t]
            todo += [c["Next"] for c in s.get("Choices", []) + s.get("Catch", [])]
        return seen
    assert reachable(DEFINITION["States"], DEFINITION["StartAt"]) == set(DEFINITION["States"])


@pytest.mark.parametrize("name, state", TASKS, ids=[t[0] for t in TASKS])
def test_every_task_maps_to_a_lambda_file(name, state):
    match = re.fullmatch(r"\$\{(\w+FunctionArn)\}", state["Resource"])
    assert match, f"{name}: Resource {state['Resource']!r} is not a function placeholder"
    file = FILES.get(match.group(1))
    assert file is not None, f"{name}: no lambda_functions file for {match.group(1)}"
    assert file.logical_name == name.rsplit("/", 1)[-1], "the state is named after its handler file"


@pytest.mark.parametrize("name, state", TASKS, ids=[t[0] for t in TASKS])
def test_every_task_retries_transient_errors(name, state):
    retried = {e for r in state.get("Retry", []) for e in r["ErrorEquals"]}
    assert {"Lambda.TooManyRequestsException", "Lambda.ServiceException", "TransientError"} <= retried


@pytest.mark.parametrize("name, state", [(n, s) for n, s, _ in STATES if s["Type"] in ("Task", "Map")
                                         and "/" not in n], ids=lambda v: v if isinstance(v, str) else "")
def test_every_top_level_task_and_map_has_a_catch(name, state):
    assert any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", [])), name


def test_every_custom_error_name_is_an_exception_class():
    names = set()
    for _, state, _ in STATES:
        for rule in state.get("Retry", []) + state.get("Catch", []):
            # States.*, Lambda.* and the Lambda service's own (Sandbox.*, Runtime.*) are AWS's.
            names |= {e for e in rule["ErrorEquals"] if not e.startswith(("States.", "Lambda.", "Sandbox.", "Runtime."))}
        if state["Type"] == "Fail" and "Error" in state:
            names.add(state["Error"])
    assert names, "expected custom error names"
    assert names <= ERROR_CLASSES, f"not exception classes: {names - ERROR_CLASSES}"


def test_every_lambda_file_is_used_and_has_a_handler():
    used = {re.search(r"\w+FunctionArn", s["Resource"]).group(0) for _, s in TASKS}
    assert used == {name for name, file in FILES.items() if file.is_state}
    for file in FILES.values():
        source = file.path.read_text()
        assert "def handler(event, context):" in source, file.path.name


def test_placeholders_are_functions_and_settings_only():
    assert definition.placeholders(DEFINITION) == ({name for name, file in FILES.items() if file.is_state}
                                                   | {"MapConcurrency", "Partition", "WorkBucket"})


def test_render_fills_typed_values():
    values = {name: f"arn:aws:lambda:us-east-1:123456789012:function:{name}" for name in FILES}
    rendered = definition.render(dict(values, MapConcurrency=7, Partition="aws", WorkBucket="work"))
    assert rendered["States"]["Copy"]["MaxConcurrency"] == 7
    assert definition.placeholders(rendered) == set()
    with pytest.raises(KeyError, match="MapConcurrency"):
        definition.render(values)


@pytest.mark.parametrize("text, message", [
    ("def handler(e, c):\n    pass\n", "no front matter"),
    ("# ---\n# Timeout: 3\n", "not closed"),
    ("# ---\n# Colour: red\n# ---\n", "unknown front matter key(s) Colour"),
    ("# ---\n# : : :\n# ---\n", "not valid YAML"),
    ("# ---\nTimeout: 3\n# ---\n", "not a comment"),
])
def test_front_matter_errors_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "broken_fn.py"
    path.write_text(text)
    with pytest.raises(FrontMatterError, match=re.escape(message)) as info:
        parse(path)
    assert "broken_fn.py" in str(info.value)


def test_distributed_maps_tolerate_failed_chunks_and_write_results_outside_the_state():
    """Every chunk runs whatever happens to the others (Tally and Report
    decide, from the result files); child outputs go to the work bucket's
    map-results/ prefix (its lifecycle rule and the state machine role's
    grant are for that prefix), never into the 256 KiB state; a chunk
    whose Lambda was killed runs once more."""
    maps = [s for _, s, _ in STATES if s["Type"] == "Map"]
    assert maps
    for state in maps:
        assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
        assert state["ToleratedFailurePercentage"] == 100
        assert state["ResultWriter"]["Parameters"] == {"Bucket": "${WorkBucket}",
                                                       "Prefix": work.MAP_RESULTS.rstrip("/")}
        (task,) = state["ItemProcessor"]["States"].values()
        retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
        assert {"Sandbox.Timedout", "States.Timeout"} <= retried
