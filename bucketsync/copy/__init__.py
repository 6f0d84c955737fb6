"""The copy path: one chunk of planned copies, proven the same or written,
and read back. Modules, from the chunk loop down to the shared helpers
(each imports only those below it):

    chunk.py        the chunk loop (Copier): each action proven, or copied by the chunk's writer
    deadline.py     whether an object may still start (interrupt, the Lambda's time)
    stamping.py     whether copies carry the stamp from the start: the run's decision, a chunk's finding
    checking.py     CHECK/META actions proven the same with requests (stamp, metadata, tags)
    server_side.py  the writer for one client at both sides (CopyObject, UploadPartCopy)
    streamed.py     the writer across endpoints (GET and PUT/UploadPart through this process)
    multipart.py    the multipart skeleton both writers fill (layout, complete, abort)
    destination.py  conditional writes, the stamp, "is what is there our own write?"
    source.py       conditional reads of the source (HEAD, tags)
    readback.py     the read-back of what a chunk wrote
    transfer.py     streamed-transfer helpers (memory budget, parts, hashes)
    sameness.py     pure proof of sameness over HEAD answers
    context.py      the injected clients, the run, the ledger of outcomes; Job and Writer
"""
from .chunk import Copier
from .deadline import TIME_RESERVE_SECONDS, start_deadline

__all__ = ["Copier", "TIME_RESERVE_SECONDS", "start_deadline"]
