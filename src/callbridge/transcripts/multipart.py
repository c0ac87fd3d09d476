"""An incremental ``multipart/form-data`` parser: feed it the body chunk by chunk as it arrives and it yields
each part's name and its content in pieces, holding at most a chunk and a boundary's length in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

from callbridge.kit.bounds import MAX_KEY_LENGTH

MAX_HEADER_BYTES = 16 * 1024


class MultipartError(ValueError):
    pass


@dataclass(frozen=True)
class PartStart:
    name: str
    filename: str | None


@dataclass(frozen=True)
class PartData:
    data: bytes


@dataclass(frozen=True)
class PartEnd:
    pass


Event = PartStart | PartData | PartEnd


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type, or MultipartError."""
    message = Message()
    message["content-type"] = content_type or ""
    if message.get_content_type() != "multipart/form-data":
        raise MultipartError("the body must be multipart/form-data")
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise MultipartError("the Content-Type has no valid boundary parameter")
    return boundary.encode("latin-1")


def _part_start(raw_headers: bytes) -> PartStart:
    message = Message()
    for line in raw_headers.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            message[name.strip()] = value.strip()
    if message.get_content_disposition() != "form-data":
        raise MultipartError("a part has no Content-Disposition: form-data header")
    name_param = message.get_param("name", header="content-disposition")
    if not isinstance(name_param, str) or not name_param:
        raise MultipartError("a part has no name")
    name = name_param
    if len(name) > MAX_KEY_LENGTH or "\x00" in name:  # the upload's conversation_identifier: a stored key
        raise MultipartError(f"a part's name must be at most {MAX_KEY_LENGTH} characters, without NUL")
    filename = message.get_param("filename", header="content-disposition")
    return PartStart(name, filename if isinstance(filename, str) else None)


class MultipartParser:
    def __init__(self, boundary: bytes) -> None:
        self._first = b"--" + boundary
        self._delimiter = b"\r\n--" + boundary
        self._buffer = bytearray()
        self._state = "preamble"  # preamble, after_delimiter, headers, body, done

    def feed(self, chunk: bytes) -> Iterator[Event]:
        self._buffer += chunk
        while True:
            if self._state == "preamble":
                at = self._buffer.find(self._first)
                if at < 0:
                    # Keep only what could be the start of the first delimiter.
                    del self._buffer[: max(0, len(self._buffer) - len(self._first))]
                    return
                del self._buffer[: at + len(self._first)]
                self._state = "after_delimiter"
            elif self._state == "after_delimiter":
                if len(self._buffer) < 2:
                    return
                if self._buffer[:2] == b"--":
                    self._state = "done"
                    self._buffer.clear()
                    return
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    if len(self._buffer) > 1024:
                        raise MultipartError("garbage after a boundary")
                    return
                if self._buffer[:end].strip(b" \t"):
                    raise MultipartError("garbage after a boundary")
                del self._buffer[: end + 2]
                self._state = "headers"
            elif self._state == "headers":
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buffer) > MAX_HEADER_BYTES:
                        raise MultipartError("a part's headers are too long")
                    return
                start = _part_start(bytes(self._buffer[:end]))
                del self._buffer[: end + 4]
                self._state = "body"
                yield start
            elif self._state == "body":
                at = self._buffer.find(self._delimiter)
                if at < 0:
                    keep = len(self._delimiter) - 1
                    if len(self._buffer) > keep:
                        data = bytes(self._buffer[: len(self._buffer) - keep])
                        del self._buffer[: len(self._buffer) - keep]
                        yield PartData(data)
                    return
                if at:
                    yield PartData(bytes(self._buffer[:at]))
                del self._buffer[: at + len(self._delimiter)]
                self._state = "after_delimiter"
                yield PartEnd()
            else:  # done: an epilogue is ignored
                self._buffer.clear()
                return

    def close(self) -> None:
        if self._state != "done":
            raise MultipartError("the body ended before the closing boundary")
