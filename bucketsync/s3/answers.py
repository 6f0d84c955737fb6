"""S3's answers to the calls `crt.py` sends, read as boto3 reads them
(requests: wire.py): pure, no I/O."""
from __future__ import annotations

import http.client
import io
import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote_plus

from .wire import Operation

_ERROR_ROOT = re.compile(rb"\s*(?:<\?xml[^>]*\?>\s*)?<Error[\s>]")


class Body(io.BytesIO):
    """A GetObject body (the CRT hands it over whole): read() and close()."""


def is_error_body(body: bytes) -> bool:
    """Whether an answer's XML is an <Error> document: its root element, as
    botocore checks (a DeleteResult holds <Error> elements of its own)."""
    return _ERROR_ROOT.match(body) is not None


def error_response(status: int, headers: list, body: bytes) -> dict:
    """boto3's error dict (ClientError.response) of an answer that failed."""
    error = {}
    if body.strip():
        try:
            root = ET.fromstring(body)
            error = {_local(child.tag): child.text or "" for child in root}
        except ET.ParseError:
            error = {}
    if not error.get("Code"):   # a HEAD's error has no body: boto3 names it by its status
        error.setdefault("Code", str(status))
        error.setdefault("Message", http.client.responses.get(status, ""))
    metadata = _metadata(status, headers)
    for name in ("RequestId", "HostId"):   # boto3 keeps these in the metadata, not the error
        if name in error:
            metadata[name] = error.pop(name)
    return {"Error": error, "ResponseMetadata": metadata}


def parse(op: Operation, status: int, headers: list, body: bytes, params: dict) -> dict:
    """boto3's answer dict of a successful answer."""
    out: dict = {}
    shape = op.output_shape
    if shape is not None:
        _parse_headers(shape, headers, out)
        payload = shape.serialization.get("payload")
        if payload and shape.members[payload].type_name == "blob":
            out[payload] = Body(body)
        elif body.strip():
            root = ET.fromstring(body)
            if payload:
                out[payload] = _from_xml(shape.members[payload], root)
            else:
                out.update(_from_xml(shape, root))
        elif payload:   # as botocore: an empty body is an empty structure
            out[payload] = {}
    if op.name == "ListObjectsV2" and "EncodingType" not in params and out.get("EncodingType") == "url":
        _decode_listing(out)
    out["ResponseMetadata"] = _metadata(status, headers)
    return out


def _parse_headers(shape, headers: list, out: dict) -> None:
    table = _header_table(shape)
    prefixes = [(prefix, name) for name, prefix in table.get("", ())]
    for _, name in prefixes:   # as botocore: {} when no header has the prefix
        out[name] = {}
    for header, value in headers:
        lower = header.lower()
        found = table.get(lower)
        if found is not None:
            name, kind = found
            out[name] = _typed(value, kind)
            if name == "Expires":
                out["ExpiresString"] = value
            continue
        for prefix, name in prefixes:
            if lower.startswith(prefix):
                out.setdefault(name, {})[header[len(prefix):]] = value


_header_tables: dict = {}


def _header_table(shape) -> dict:
    """lower-case header -> (member, type); "" -> [(member, prefix)]."""
    table = _header_tables.get(shape.name)
    if table is None:
        table = {"": []}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if location == "header":
                table[member.serialization.get("name", name).lower()] = (name, member.type_name)
            elif location == "headers":
                table[""].append((name, member.serialization.get("name", name).lower()))
        _header_tables[shape.name] = table
    return table


def _typed(text: str, kind: str):
    if kind in ("integer", "long"):
        return int(text)
    if kind == "boolean":
        return text.lower() == "true"
    return text   # strings, and timestamps as the server wrote them


def _from_xml(shape, element):
    kind = shape.type_name
    if kind == "structure":
        children: dict = {}
        for child in element:
            children.setdefault(_local(child.tag), []).append(child)
        out = {}
        for name, member in shape.members.items():
            found = children.get(member.serialization.get("name", name))
            if not found or member.serialization.get("location"):
                continue
            if member.type_name == "list" and member.serialization.get("flattened"):
                out[name] = [_from_xml(member.member, e) for e in found]
            else:
                out[name] = _from_xml(member, found[0])
        return out
    if kind == "list":
        item = shape.member.serialization.get("name", "member")
        return [_from_xml(shape.member, child) for child in element if _local(child.tag) == item]
    return _typed(element.text or "", kind)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _decode_listing(out: dict) -> None:
    """What botocore does for the encoding-type=url it sets itself."""
    for name in ("Delimiter", "Prefix", "StartAfter"):
        if name in out:
            out[name] = unquote_plus(out[name])
    for item in out.get("Contents", ()):
        item["Key"] = unquote_plus(item["Key"])
    for item in out.get("CommonPrefixes", ()):
        item["Prefix"] = unquote_plus(item["Prefix"])


def _metadata(status: int, headers: list) -> dict:
    lowered = {k.lower(): v for k, v in headers}
    return {"RequestId": lowered.get("x-amz-request-id", ""), "HostId": lowered.get("x-amz-id-2", ""),
            "HTTPStatusCode": status, "HTTPHeaders": lowered, "RetryAttempts": 0}
