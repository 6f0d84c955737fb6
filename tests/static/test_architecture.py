"""LAMBDA_ARCHITECTURE: every function of the template runs on it, since the
one code zip carries awscrt's native library built for it alone; a front
matter naming another architecture is refused, naming its file."""
import dataclasses

import pytest

from bucketsync.deploy import sam, template
from bucketsync.errors import FrontMatterError
from bucketsync.project import config
from bucketsync.project.frontmatter import LambdaFile, lambda_files

SETTINGS = {"region": "eu-west-1", "source_buckets": ["src-bucket"], "destination_buckets": ["dst-bucket"],
            # every function deployed, those run by triggers too
            "notification_email": "ops@example.com",
            "datasync_tasks": {"images": {"source": "s3://src-bucket/images/", "destination": "s3://dst-bucket/images/"}},
            "mirrors": [{"name": "photos", "source": "src-bucket", "destination": "dst-bucket"}]}


def functions(cfg) -> dict:
    body = sam.translate(template.build(cfg, "123456789012", "artifacts", "code/abc.zip"), cfg.region)
    return {name: resource["Properties"] for name, resource in body["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Function"}


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_every_function_runs_on_the_configured_architecture(architecture):
    cfg = config.check(dict(SETTINGS, lambda_architecture=architecture))
    found = functions(cfg)
    assert len(found) == len(lambda_files())
    assert {name: properties["Architectures"] for name, properties in found.items()} == {
        name: [architecture] for name in found}


def test_the_architecture_is_part_of_what_a_version_captures():
    """Changing it publishes new function versions (new code and configuration)."""
    cfg = config.check(dict(SETTINGS))
    arm = template.build(cfg, "123456789012", "artifacts", "code/abc.zip")["Resources"]
    x86 = template.build(dataclasses.replace(cfg, lambda_architecture="x86_64"), "123456789012", "artifacts",
                         "code/abc.zip")["Resources"]
    versions = {name for name, r in arm.items() if r["Type"] == "AWS::Lambda::Version"}
    assert versions and not versions & set(x86)


def test_a_front_matter_naming_another_architecture_is_refused(monkeypatch):
    cfg = config.check(dict(SETTINGS))
    real = lambda_files()

    def naming(architectures):
        return [LambdaFile(f.path, dict(f.front_matter, Architectures=architectures)) if f.module == "copy_chunk"
                else f for f in real]
    monkeypatch.setattr(template, "lambda_files", lambda: naming(["arm64"]))
    assert functions(cfg)["CopyChunkFunction"]["Architectures"] == ["arm64"]   # the same one: redundant, accepted
    monkeypatch.setattr(template, "lambda_files", lambda: naming(["x86_64"]))
    with pytest.raises(FrontMatterError, match=r"^copy_chunk\.py: Architectures \['x86_64'\] differs from "
                                               r"LAMBDA_ARCHITECTURE 'arm64'"):
        functions(cfg)
