"""The incremental multipart parser gives the same parts however the body is cut into chunks."""

from __future__ import annotations

import pytest

from callbridge.transcripts.multipart import (
    MultipartError,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    boundary_of,
)

BOUNDARY = "xYz-42"
BODY = (
    b"preamble to ignore\r\n"
    b"--xYz-42\r\n"
    b'Content-Disposition: form-data; name="conv-1"; filename="a.json"\r\n'
    b"Content-Type: application/json\r\n\r\n"
    b'{"line": 1}\n\r\n--xYz-4X is not a boundary\n'
    b"\r\n--xYz-42\r\n"
    b'Content-Disposition: form-data; name="conv-2"\r\n\r\n'
    b"\r\n--xYz-42--\r\nepilogue"
)


def parse(body: bytes, chunk: int) -> list[tuple[str, bytes]]:
    parser = MultipartParser(BOUNDARY.encode())
    parts: list[tuple[str, bytes]] = []
    for start in range(0, len(body), chunk):
        for event in parser.feed(body[start : start + chunk]):
            if isinstance(event, PartStart):
                parts.append((event.name, b""))
            elif isinstance(event, PartData):
                name, data = parts[-1]
                parts[-1] = (name, data + event.data)
            else:
                assert isinstance(event, PartEnd)
    parser.close()
    return parts


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 16, 64, len(BODY)])
def test_chunking_does_not_change_the_parts(chunk: int) -> None:
    """Byte by byte or whole, the parts and their content are the same (a delimiter split across chunks
    is found; a near-delimiter inside the content is content)."""
    assert parse(BODY, chunk) == [
        ("conv-1", b'{"line": 1}\n\r\n--xYz-4X is not a boundary\n'),
        ("conv-2", b""),
    ]


def test_a_body_without_its_closing_boundary_is_an_error() -> None:
    """close() refuses a body that ended inside a part."""
    with pytest.raises(MultipartError):
        parse(BODY[: BODY.index(b"\r\n--xYz-42--")], 5)


def test_the_boundary_comes_from_the_content_type() -> None:
    """The boundary parameter is read (quoted or not); another media type is refused."""
    assert boundary_of('multipart/form-data; boundary="a b"') == b"a b"
    assert boundary_of("multipart/form-data; boundary=xYz-42") == b"xYz-42"
    with pytest.raises(MultipartError):
        boundary_of("application/json")
