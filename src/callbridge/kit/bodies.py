"""Request bodies as real clients send them: JSON (any charset spelling), XML with the same property
names, the literal ``null``, or nothing; capped in size and validated with every problem listed at once."""

from __future__ import annotations

from typing import Any, TypeVar
from xml.parsers import expat

import orjson
import xmltodict
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import ClientDisconnect, Request

from callbridge.errors import CallbridgeError, InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from callbridge.kit import bounds

ModelT = TypeVar("ModelT", bound=BaseModel)

# Elements that may repeat in XML bodies: each occurrence is one item of the list property of that name.
XML_LIST_ELEMENTS = ("participants", "entries", "messages", "events")
# How deep XML elements may nest: the API's deepest document is a handful of levels.
XML_MAX_DEPTH = 64


class ClientGone(CallbridgeError):
    """The client closed the connection before its body arrived: nothing was done and nobody is left to answer.
    Not a failure of the server, so it is rendered like any refusal (499, nginx's "client closed request")
    instead of being logged as an unhandled error, whose traceback costs milliseconds to render."""

    status_code = 499
    code = "CLIENT_CLOSED_REQUEST"


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is {declared} bytes; the limit is {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The body exceeds the limit of {limit} bytes.")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientGone("The client closed the connection before sending the whole body.") from None
    return b"".join(chunks)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(kind: str) -> bool:
    return kind in ("", "application/json", "text/json") or kind.endswith("+json")


def _is_xml(kind: str) -> bool:
    return kind in ("application/xml", "text/xml") or kind.endswith("+xml")


def _empty_element_is_empty_string(_path: Any, key: str, value: Any) -> tuple[str, Any]:
    return key, "" if value is None else value


def decode(raw: bytes, content_type: str | None, *, xml_allowed: bool = True) -> Any:
    """The body as plain data: None for an empty body or the literal ``null``."""
    kind = media_type(content_type)
    if not raw.strip():
        return None
    if b"\\u0000" in raw or b"\x00" in raw:
        # PostgreSQL cannot store U+0000 in text; refuse it up front on every backend alike.
        raise InvalidRequest.for_fields(["body: contains a NUL character (U+0000), which cannot be stored"])
    if is_json(kind):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(
                f"The body is not valid JSON: {exc}.", code="INVALID_JSON", errors=[f"body: {exc}"]
            ) from exc
        if bounds.too_deep(raw, data):
            raise InvalidRequest.for_fields([bounds.body_depth_problem(data)])
        return data
    if _is_xml(kind) and xml_allowed:
        _screen_xml(raw)
        try:
            document = xmltodict.parse(
                raw,
                disable_entities=True,
                xml_attribs=False,
                force_list=XML_LIST_ELEMENTS,
                postprocessor=_empty_element_is_empty_string,
            )
        except Exception as exc:  # expat errors, and the refusal of entity declarations
            raise InvalidRequest(
                "The body is not acceptable XML (entities and DTDs are refused).",
                code="INVALID_XML",
                errors=[f"body: {exc}"],
            ) from exc
        # The root element's name is free; its children are the properties.
        (root,) = document.values()
        return root if root != "" else {}
    accepted = "application/json or application/xml" if xml_allowed else "application/json"
    raise UnsupportedMediaType(f"Content-Type {kind!r} is not supported; send {accepted}.")


class _RefusedXml(Exception):
    pass


def _screen_xml(raw: bytes) -> None:
    """Refuse a DOCTYPE (of any kind: an external identifier could make a parser fetch it) and elements nested
    deeper than ``XML_MAX_DEPTH``, in one streaming pass before anything is built from the document."""
    parser = expat.ParserCreate()
    depth = 0

    def doctype(name: str, *_: object) -> None:
        raise _RefusedXml(f"a DOCTYPE ({name[:64]}) is not accepted; send the document without one")

    def start(_name: str, _attributes: object) -> None:
        nonlocal depth
        depth += 1
        if depth > XML_MAX_DEPTH:
            raise _RefusedXml(f"elements are nested more than {XML_MAX_DEPTH} deep")

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(raw, True)
    except _RefusedXml as exc:
        raise InvalidRequest(
            f"The body is not acceptable XML: {exc}.", code="INVALID_XML", errors=[f"body: {exc}"]
        ) from None
    except expat.ExpatError:
        pass  # malformed: xmltodict reports it in its own words


def describe(errors: list[ErrorDetails]) -> list[str]:
    """``"path.to[0].field: reason"`` for each pydantic error."""
    problems = []
    for error in errors:
        path = ""
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        reason = "is required" if error["type"] == "missing" else error["msg"][:1].lower() + error["msg"][1:]
        problems.append(f"{path or 'body'}: {reason}")
    return problems


def validate(model: type[ModelT], data: Any) -> ModelT:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidRequest.for_fields([f"body: must be an object, not {type(data).__name__}"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest.for_fields(describe(exc.errors())) from exc


async def parse_body(request: Request, model: type[ModelT], limit: int, *, xml_allowed: bool = True) -> ModelT:
    raw = await read_body(request, limit)
    return validate(model, decode(raw, request.headers.get("content-type"), xml_allowed=xml_allowed))


_DOCUMENTED: dict[str, type[BaseModel]] = {}


def documented_body_models() -> list[type[BaseModel]]:
    """Models named by ``request_body_openapi``; the app adds their schemas to the OpenAPI components."""
    return list(_DOCUMENTED.values())


def request_body_openapi(model: type[BaseModel], *, xml: bool = True, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its body itself: the same schema as JSON and as XML."""
    _DOCUMENTED[model.__name__] = model
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    content: dict[str, Any] = {"application/json": {"schema": ref}}
    if xml:
        content["application/xml"] = {"schema": {**ref, "xml": {"name": model.__name__}}}
    return {"requestBody": {"required": required, "content": content}}
