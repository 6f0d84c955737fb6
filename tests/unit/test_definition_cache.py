"""The parsed definition is cached by its text (bucketsync.local.definition_cache):
parsed once per text and library versions, in memory and on disk; a changed
definition, other versions, a corrupt or foreign file are parsed again; every
use gets its own copy. The parse here is a stand-in that counts its calls
(the engine's real one is covered by tests/functional/test_engine_startup.py)."""
import os
import pickle

import pytest

from bucketsync.local import definition_cache
from bucketsync.local.definition_cache import KEEP, ParsedDefinitions


@pytest.fixture(autouse=True)
def empty_memory():
    definition_cache._memory.clear()
    yield
    definition_cache._memory.clear()


class Parser:
    def __init__(self):
        self.texts = []

    def __call__(self, text):
        self.texts.append(text)
        if "bad" in text:
            raise ValueError("not a definition")
        return {"program": text, "states": [1, 2, 3]}


def fresh_process():
    """What a new process has: the disk, not the memory."""
    definition_cache._memory.clear()


def test_a_text_is_parsed_once_then_read_back_as_a_copy(tmp_path):
    parse = Parser()
    cache = ParsedDefinitions(tmp_path, "moto-1")
    first = cache.program('{"StartAt": "A"}', parse)
    second = cache.program('{"StartAt": "A"}', parse)
    fresh_process()
    third = ParsedDefinitions(tmp_path, "moto-1").program('{"StartAt": "A"}', parse)
    assert parse.texts == ['{"StartAt": "A"}']
    assert first == second == third == {"program": '{"StartAt": "A"}', "states": [1, 2, 3]}
    assert second is not first and third["states"] is not second["states"], "each use gets its own objects"


@pytest.mark.parametrize("changed_text, versions", [('{"StartAt": "B"}', "moto-1"), ('{"StartAt": "A"}', "moto-2")])
def test_a_changed_definition_or_library_is_parsed_again(tmp_path, changed_text, versions):
    parse = Parser()
    ParsedDefinitions(tmp_path, "moto-1").program('{"StartAt": "A"}', parse)
    fresh_process()
    again = ParsedDefinitions(tmp_path, versions).program(changed_text, parse)
    assert parse.texts == ['{"StartAt": "A"}', changed_text]
    assert again["program"] == changed_text


def test_a_bad_definition_raises_and_is_not_kept(tmp_path):
    parse = Parser()
    cache = ParsedDefinitions(tmp_path, "moto-1")
    for _ in range(2):
        with pytest.raises(ValueError):
            cache.program("bad", parse)
    assert parse.texts == ["bad", "bad"] and list(tmp_path.iterdir()) == []


def test_a_corrupt_file_is_parsed_again_and_replaced(tmp_path):
    parse = Parser()
    ParsedDefinitions(tmp_path, "v").program("text", parse)
    [path] = tmp_path.glob("*.pickle")
    path.write_bytes(b"\x80\x05 truncated")
    fresh_process()
    assert ParsedDefinitions(tmp_path, "v").program("text", parse)["program"] == "text"
    assert len(parse.texts) == 2
    assert pickle.loads(path.read_bytes())["program"] == "text"


def test_a_file_others_may_write_is_not_loaded(tmp_path):
    """Unpickling runs code: a file someone else could have written is ignored."""
    parse = Parser()
    ParsedDefinitions(tmp_path, "v").program("text", parse)
    [path] = tmp_path.glob("*.pickle")
    path.write_bytes(pickle.dumps({"program": "planted"}))
    os.chmod(path, 0o666)
    fresh_process()
    assert ParsedDefinitions(tmp_path, "v").program("text", parse)["program"] == "text"
    assert len(parse.texts) == 2


def test_a_cache_that_cannot_be_written_costs_only_the_parse(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    parse = Parser()
    cache = ParsedDefinitions(blocked / "definitions", "v")
    assert cache.program("text", parse)["program"] == "text"
    assert cache.program("text", parse)["program"] == "text"
    assert parse.texts == ["text"], "still parsed once in this process"


def test_only_the_latest_programs_are_kept_on_disk(tmp_path):
    parse = Parser()
    cache = ParsedDefinitions(tmp_path, "v")
    for n in range(KEEP + 3):
        cache.program(f"text {n}", parse)
        os.utime(next(tmp_path.glob(f"{definition_cache.key_of(f'text {n}', 'v')}.pickle")), (n, n))
    kept = sorted(tmp_path.glob("*.pickle"))
    assert len(kept) == KEEP
    assert {path.stem for path in kept} == {definition_cache.key_of(f"text {n}", "v") for n in range(3, KEEP + 3)}
    assert len(definition_cache._memory) == KEEP
