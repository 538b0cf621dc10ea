"""Turn an HTTP request body into flat fields, whatever way a browser or a script sent it."""

from __future__ import annotations

import codecs
import json
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from nurture.domain.errors import FieldProblem, MalformedBody, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

JSON = "application/json"
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
TEXT = "text/plain"


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """('application/json', {'charset': 'utf-8'}) from a Content-Type header."""
    if not content_type:
        return "", {}
    message = Message()
    message["content-type"] = content_type
    params = {key.lower(): value for key, value in (message.get_params() or [])[1:]}
    return message.get_content_type().lower(), params


def check_size(body: bytes, limit: int) -> None:
    if len(body) > limit:
        raise PayloadTooLarge(f"The body is {len(body)} bytes; the limit is {limit} bytes.")


def parse_form_fields(content_type: str | None, body: bytes) -> dict[str, str]:
    """Fields of a form post sent as JSON, urlencoded or multipart. Values come back as strings."""
    kind, params = media_type(content_type)
    if kind == JSON:
        return _json_fields(body, params.get("charset", "utf-8"))
    if kind == URLENCODED:
        return _urlencoded_fields(body, params.get("charset", "utf-8"))
    if kind == MULTIPART:
        return _multipart_fields(content_type or "", body)
    raise UnsupportedMediaType(
        f"Send the form as {JSON}, {URLENCODED} or {MULTIPART}"
        + (f", not {kind}." if kind else "; the request had no Content-Type.")
    )


# The web's encodings (the WHATWG Encoding Standard's), by the name of Python's codec for each: a body's charset
# names one of them or is refused (415). Python has more codecs: some are not charsets at all (rot13, base64,
# zlib), and some turn escapes in the bytes into characters (utf-7, unicode_escape, punycode) or are code pages
# no browser sends (EBCDIC, utf-32).
WEB_ENCODINGS = frozenset({
    "utf-8", "utf-16", "utf-16-le", "utf-16-be",
    "shift_jis", "cp932", "euc_jp", "iso2022_jp",
    "gbk", "gb2312", "gb18030", "big5", "euc_kr", "cp949",
    "ascii", *(f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
    *(f"cp125{n}" for n in range(9)), "cp866", "cp874", "koi8-r", "koi8-u", "mac-roman", "mac-cyrillic",
})
# The Standard's labels that Python's codec registry does not know (windows-31j: Shift_JIS as Windows and Java
# name it).
WEB_LABELS = {"windows-31j": "cp932", "x-sjis": "shift_jis", "x-euc-jp": "euc_jp", "windows-874": "cp874",
              "x-mac-cyrillic": "mac-cyrillic", "iso-8859-8-i": "iso8859-8"}


def text_encoding(charset: str) -> str:
    """The codec of a charset a body may be in: one of the web's encodings, by any name the web gives it."""
    try:
        codec = codecs.lookup(WEB_LABELS.get(charset.strip().lower(), charset))
    except LookupError as exc:
        raise UnsupportedMediaType(f"Unknown charset '{charset}'.") from exc
    if codec.name not in WEB_ENCODINGS:
        raise UnsupportedMediaType(f"'{charset}' is not one of the web's character encodings.")
    return codec.name


def decode_text(body: bytes, charset: str) -> str:
    try:
        return body.decode(text_encoding(charset))
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"The body is not valid {charset}.") from exc


def load_json(body: bytes, charset: str) -> Any:
    """Parse a JSON body; anything that could not be stored as text later is refused here."""
    try:
        data = json.loads(decode_text(body, charset))
    except json.JSONDecodeError as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from exc
    except RecursionError as exc:
        raise MalformedBody("The JSON body is nested too deeply.") from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise MalformedBody(f"The JSON body has a value that cannot be read: {exc}.") from exc
    try:
        # "\ud800"-style escapes decode to lone surrogates, which are not text and cannot be stored.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedBody("The JSON body contains an invalid unicode escape.") from exc
    except ValueError as exc:  # NaN and Infinity are not JSON numbers
        raise MalformedBody("The JSON body contains a number that is not finite.") from exc
    return data


def _json_fields(body: bytes, charset: str) -> dict[str, str]:
    data = load_json(body, charset)
    if not isinstance(data, dict):
        raise MalformedBody("The JSON body must be an object of field names to values.")
    fields: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for name, value in data.items():
        if value is None:
            fields[name] = ""
        elif isinstance(value, bool):
            fields[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            fields[name] = str(value)
        else:
            problems.append(FieldProblem(name, "not_a_scalar", "must be a string, number or boolean"))
    if problems:
        raise ValidationFailed("Some fields have values of the wrong kind.", problems)
    return fields


def _urlencoded_fields(body: bytes, charset: str) -> dict[str, str]:
    encoding = text_encoding(charset)
    text = decode_text(body, "ascii" if encoding != "utf-8" else "utf-8")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, encoding=encoding, errors="strict")
    except UnicodeError as exc:
        raise MalformedBody(f"A field is not valid {charset}.") from exc
    # A checkbox group or a repeated field: the last value wins, as in most form back ends.
    return dict(pairs)


def _multipart_fields(content_type: str, body: bytes) -> dict[str, str]:
    _, params = media_type(content_type)
    if not params.get("boundary"):
        raise MalformedBody("A multipart body needs a boundary in its Content-Type.")
    try:
        head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    except UnicodeEncodeError as exc:
        raise MalformedBody("The Content-Type header is not valid.") from exc
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise MalformedBody("The multipart body is malformed.")
    fields: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise MalformedBody("Every multipart part needs a form-data name.")
        if part.get_filename() is not None:
            problems.append(FieldProblem(name, "file_not_accepted", "file uploads are not accepted"))
            continue
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        fields[name] = decode_text(raw, part.get_content_charset() or "utf-8")
    if problems:
        raise ValidationFailed("This form does not take files.", problems)
    return fields
