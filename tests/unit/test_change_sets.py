"""The template reaches CreateChangeSet in the request, or, above
CloudFormation's 51,200 bytes, through the artifacts bucket under its hash."""
import hashlib
import json

from bucketsync.deploy import change_sets


class _S3:
    def __init__(self):
        self.puts = []

    def put_object(self, **kwargs):
        self.puts.append(kwargs)

    def generate_presigned_url(self, operation, Params):
        assert operation == "get_object"
        return f"https://presigned.example/{Params['Bucket']}/{Params['Key']}"


def test_a_template_up_to_the_limit_travels_in_the_request():
    s3 = _S3()
    body = {"Description": ""}
    body["Description"] = "x" * (change_sets.MAX_TEMPLATE_BODY - len(json.dumps(body)))
    text = json.dumps(body, sort_keys=True)
    assert len(text) == change_sets.MAX_TEMPLATE_BODY
    assert change_sets.template_source(s3, "artifacts", body) == {"TemplateBody": text}
    assert s3.puts == []


def test_a_larger_template_is_uploaded_under_its_hash_and_named_by_a_url():
    s3 = _S3()
    body = {"Description": "x" * change_sets.MAX_TEMPLATE_BODY}
    text = json.dumps(body, sort_keys=True)
    key = f"templates/{hashlib.sha256(text.encode()).hexdigest()}.json"
    assert change_sets.template_source(s3, "artifacts", body) == {
        "TemplateURL": f"https://presigned.example/artifacts/{key}"}
    assert s3.puts == [{"Bucket": "artifacts", "Key": key, "Body": text.encode()}]
