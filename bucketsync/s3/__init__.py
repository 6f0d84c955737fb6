"""The one package that calls S3. Every function takes its client (injected),
and every `ClientError` becomes one of the project's errors, raised `from` it.

Callers use the names re-exported here (`from . import s3`, then
`s3.list_pages(...)`); the modules hold them by what they do:
calls (errors, conditions, retries), buckets, listing, objects, metadata
(pure: no calls), multipart, deletes, documents (the work area's JSON).
"""
from .buckets import bucket_region, default_encryption
from .calls import CREDENTIAL_CODES, error_code, retrying, translate
from .deletes import delete_object, delete_objects, probe_conditional_delete, xml_safe
from .documents import LineWriter, delete_document, get_json, put_document, put_json, read_document, read_lines
from .listing import any_key, list_folders, list_page, list_pages
from .metadata import (STAMP, SYSTEM_METADATA, USER_METADATA_LIMIT, encode_tags, last_modified,
                       metadata_differences, parse_time, stamp_fits, system_metadata, user_metadata,
                       user_metadata_size, written_metadata)
from .multipart import (abort_multipart, complete_multipart, create_multipart, multipart_etag, stale_uploads,
                        upload_part, upload_part_copy)
from .objects import copy_object, copy_source, get_bytes, get_tags, head_object, object_state, put_object, put_tags

__all__ = [
    "CREDENTIAL_CODES", "LineWriter", "STAMP", "SYSTEM_METADATA",
    "USER_METADATA_LIMIT", "abort_multipart", "any_key", "bucket_region", "complete_multipart", "copy_object",
    "copy_source", "create_multipart", "default_encryption", "delete_document", "delete_object", "delete_objects", "encode_tags",
    "error_code", "get_bytes", "get_json", "get_tags", "head_object", "last_modified", "list_folders",
    "list_page", "list_pages", "metadata_differences", "multipart_etag", "object_state", "parse_time",
    "probe_conditional_delete", "put_document", "put_json", "put_object", "put_tags", "read_document",
    "read_lines", "retrying", "stale_uploads", "stamp_fits", "system_metadata", "translate", "upload_part",
    "upload_part_copy", "user_metadata", "user_metadata_size", "written_metadata", "xml_safe",
]
