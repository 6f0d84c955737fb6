"""botocore's data files decoded once per process in local runs
(bucketsync.local.service_models): every session and moto's own loader get the
same models botocore would load itself, decoded once, and the list of
services is the one botocore's own scan gives."""
import boto3
import pytest
from botocore import loaders

from bucketsync.local import service_models

TYPES = ("service-2", "paginators-1", "waiters-2", "endpoint-rule-set-1", "resources-1")


@pytest.fixture
def botocore_alone():
    """botocore's own behaviour for the test, sharing again afterwards."""
    service_models.uninstall()
    yield
    service_models.install()


def fresh_loaders():
    """A boto3 session's loader (boto3 adds its own data path) and a bare one, as moto makes."""
    return boto3.session.Session(region_name="us-east-1")._loader, loaders.create_loader()


def test_the_same_answers_as_botocore(botocore_alone):
    expected = {(n, kind): loader.list_available_services(kind) for n, loader in enumerate(fresh_loaders())
                for kind in TYPES}
    models = {name: fresh_loaders()[0].load_service_model(name, "service-2") for name in ("s3", "stepfunctions")}
    service_models.install()
    shared = {(n, kind): loader.list_available_services(kind) for n, loader in enumerate(fresh_loaders())
              for kind in TYPES}
    assert shared == expected
    assert "s3" in shared[(0, "service-2")] and shared[(0, "resources-1")] != shared[(0, "service-2")]
    for name, model in models.items():
        assert fresh_loaders()[1].load_service_model(name, "service-2") == model


def test_each_file_is_decoded_once_whichever_loader_asks(monkeypatch, tmp_path):
    monkeypatch.setenv("BUCKETSYNC_STATE_DIR", str(tmp_path))   # nothing kept from another process
    decoded = []
    real = service_models._real_load_file

    def counting(self, path):
        decoded.append(path)
        return real(self, path)
    monkeypatch.setattr(service_models, "_real_load_file", counting)
    service_models._decoded.clear()
    first = [loader.load_service_model("stepfunctions", "service-2") for loader in fresh_loaders()]
    second = [loader.load_service_model("stepfunctions", "service-2") for loader in fresh_loaders()]
    assert first[0] is first[1] is second[0] is second[1]
    assert len([path for path in decoded if path.endswith("service-2")]) == 1


def test_clients_of_several_sessions_work_on_the_shared_models():
    clients = [boto3.session.Session(region_name="us-east-1").client("s3") for _ in range(2)]
    assert clients[0].meta.service_model.operation_model("CopyObject").name == "CopyObject"
    assert clients[0].meta.service_model is not clients[1].meta.service_model
    assert clients[1].meta.service_model.operation_names == clients[0].meta.service_model.operation_names


def test_the_next_process_reads_the_decoded_file_from_disk(monkeypatch, tmp_path):
    """Kept pickled between processes (bucketsync.local.pickle_files), keyed by
    the file's path, size and time: the same data, of the same types, without
    a decode; a file that changed is decoded again."""
    import os
    from collections import OrderedDict
    monkeypatch.setenv("BUCKETSYNC_STATE_DIR", str(tmp_path))
    decoded = []
    real = service_models._real_load_file

    def counting(self, path):
        decoded.append(path)
        return real(self, path)
    monkeypatch.setattr(service_models, "_real_load_file", counting)
    data_file = tmp_path / "data" / "thing.json"
    data_file.parent.mkdir()
    data_file.write_text('{"b": {"x": [1, 2]}, "a": 2}')
    base = str(data_file)[:-len(".json")]
    as_read = []
    for _ in range(2):
        service_models._decoded.clear()   # a new process: only the disk remembers
        as_read.append(loaders.JSONFileLoader().load_file(base))
    assert decoded == [base]
    assert as_read[0] == as_read[1] == OrderedDict([("b", OrderedDict([("x", [1, 2])])), ("a", 2)])
    assert type(as_read[1]) is OrderedDict and type(as_read[1]["b"]) is OrderedDict
    assert list(as_read[1]) == ["b", "a"]
    data_file.write_text('{"a": 3}')
    os.utime(data_file, ns=(1, 1))
    service_models._decoded.clear()
    assert loaders.JSONFileLoader().load_file(base) == {"a": 3} and decoded == [base, base]
