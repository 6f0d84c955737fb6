"""S3's REST wire format for the calls `crt.py` sends, its requests (their
answers: answers.py): pure, no I/O.

Requests are built and answers parsed from botocore's own S3 model (the
client's `meta.service_model`, loaded once per process), so the names, types
and shapes are boto3's: a call's arguments are boto3's keyword arguments and
its answer is the dict boto3 would give (timestamps as the server wrote them,
as our boto3 clients give them too: see clients.session). What botocore does
in event handlers for these calls is done here explicitly: CopySource as a
dict, Content-MD5 on bodies S3 requires a checksum for, `encoding-type=url`
on listings with the keys decoded, a 200 whose body is an <Error>.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from email.utils import format_datetime
from urllib.parse import quote, urlsplit

from .metadata import parse_time

# Bodies S3 refuses without an integrity checksum (the model's httpChecksumRequired).
NEEDS_MD5 = frozenset({"DeleteObjects", "PutObjectTagging"})
_DNS_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class Operation:
    """What one operation's request and answer are made of (from the model)."""
    name: str
    method: str
    path: str                    # the model's requestUri path, e.g. "/{Bucket}/{Key+}"
    static_query: tuple          # e.g. (("list-type", "2"),) or (("delete", ""),)
    headers: dict                # argument -> (header, type)
    query: dict                  # argument -> (query name, type)
    prefixed: dict               # argument -> header prefix (Metadata -> "x-amz-meta-")
    payload: str | None          # the argument that is the body, if any
    # Whether its answer is XML, so that a 200 may be an error (S3 documents
    # it for CopyObject, UploadPartCopy and CompleteMultipartUpload; botocore
    # checks every such answer: handlers._handle_200_error).
    xml_answer: bool
    input_shape: object = field(repr=False)
    output_shape: object = field(repr=False)


@dataclass
class Request:
    method: str
    host: str                    # Host header: host[:port]
    path: str                    # path and query, encoded
    headers: list
    body: bytes


_operations: dict = {}


def operation(service_model, name: str) -> Operation:
    """The operation's wire description, made once per process."""
    made = _operations.get(name)
    if made is None:
        made = _operations[name] = _describe(service_model.operation_model(name))
    return made


def _describe(model) -> Operation:
    uri = model.http["requestUri"]
    path, _, static = uri.partition("?")
    # botocore strips "/{Bucket}" from the shared model on a client's first
    # call of an operation (its endpoint rules put the bucket in the URL):
    # put it back, whichever came first.
    if not path.startswith("/{Bucket}"):
        path = "/{Bucket}" + (path if path != "/" else "")
    query_items = tuple((k, v) for k, _, v in (item.partition("=") for item in static.split("&") if item))
    headers, query, prefixed = {}, {}, {}
    shape = model.input_shape
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "header":
            headers[name] = (wire_name, member.type_name)
        elif location == "querystring":
            query[name] = (wire_name, member.type_name)
        elif location == "headers":
            prefixed[name] = wire_name
    output = model.output_shape
    answer_payload = output.serialization.get("payload") if output is not None else None
    xml_answer = output is not None and (answer_payload is None
                                         or output.members[answer_payload].type_name not in ("blob", "string"))
    return Operation(model.name, model.http["method"], path, query_items, headers, query, prefixed,
                     shape.serialization.get("payload"), xml_answer, shape, output)


# ------------------------------------------------------------------ requests

def build(op: Operation, params: dict, endpoint_url: str, virtual_hosts: bool) -> Request:
    """The HTTP request of `op` with boto3's `params`. `virtual_hosts`: put a
    DNS-compatible bucket name without dots in the host (AWS); else path style."""
    parts = urlsplit(endpoint_url)
    host, base = parts.netloc, parts.path.rstrip("/")
    bucket = params["Bucket"]
    path = op.path
    if virtual_hosts and _DNS_BUCKET.fullmatch(bucket):
        host = f"{bucket}.{host}"
        path = path.replace("/{Bucket}", "", 1) or "/"
    path = path.replace("{Bucket}", quote(bucket, safe=""))
    if "{Key+}" in path:
        path = path.replace("{Key+}", quote(params["Key"], safe="/~"))
    query = list(op.static_query)
    if op.name == "ListObjectsV2" and "EncodingType" not in params:
        query.append(("encoding-type", "url"))   # keys travel in XML; decoded in `parse`
    headers = []
    for name, value in params.items():
        if name in op.query:
            query.append((op.query[name][0], _text(value, op.query[name][1])))
        elif name in op.headers:
            header, kind = op.headers[name]
            headers.append((header, _copy_source(value) if name == "CopySource" else _text(value, kind)))
        elif name in op.prefixed:
            headers += [(op.prefixed[name] + k, str(v)) for k, v in value.items()]
    body = _payload(op, params)
    if body and op.name in NEEDS_MD5 and "ContentMD5" not in params:
        headers.append(("Content-MD5", base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()))
    encoded = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" if v else quote(k, safe="-_.~")
                       for k, v in query)
    return Request(op.method, host, base + path + (f"?{encoded}" if encoded else ""), headers, body)


def _copy_source(value) -> str:
    if isinstance(value, str):
        return value
    source = quote(f"{value['Bucket']}/{value['Key']}", safe="-._~/")
    return source + (f"?versionId={quote(value['VersionId'], safe='')}" if value.get("VersionId") else "")


def _text(value, kind: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        try:
            return format_datetime(parse_time(value), usegmt=True)
        except (TypeError, ValueError):
            return str(value)   # as the source answered it; the server judges
    return str(value)


def _payload(op: Operation, params: dict) -> bytes:
    if op.payload is None or op.payload not in params:
        return b""
    value, shape = params[op.payload], op.input_shape.members[op.payload]
    if shape.type_name == "blob":
        return value if isinstance(value, bytes) else value.encode() if isinstance(value, str) else value.read()
    name = shape.serialization.get("name", op.payload)
    namespace = shape.serialization.get("xmlNamespace", {}).get("uri")
    inner = _xml(shape, value, name)
    if namespace:
        inner = inner.replace(f"<{name}>", f'<{name} xmlns="{namespace}">', 1)
    return inner.encode("utf-8")


def _xml(shape, value, name: str) -> str:
    kind = shape.type_name
    if kind == "structure":
        inner = "".join(_xml(member, value[m], member.serialization.get("name", m))
                        for m, member in shape.members.items() if m in value)
        return f"<{name}>{inner}</{name}>"
    if kind == "list":
        member = shape.member
        if shape.serialization.get("flattened"):
            return "".join(_xml(member, v, name) for v in value)
        item = member.serialization.get("name", "member")
        return f"<{name}>" + "".join(_xml(member, v, item) for v in value) + f"</{name}>"
    text = ("true" if value else "false") if kind == "boolean" else str(value)
    return f"<{name}>{escape(text)}</{name}>"


def escape(text: str) -> str:
    """XML text that reads back as exactly `text`: carriage returns, line
    feeds and tabs as character references, which no parser normalises."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;"))
