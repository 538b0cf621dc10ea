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


# The web's encodings by every label the WHATWG Encoding Standard gives them, each read with the Python codec that
# decodes as the Standard does (Shift_JIS as Windows' cp932, so 髙 and ① are read; "latin1" and "ascii" as
# windows-1252). Python has more codecs: some are not charsets at all (rot13, base64, zlib), some turn escapes in
# the bytes into characters (utf-7, unicode_escape, punycode) or are code pages no browser sends (EBCDIC, utf-32):
# a charset that is none of these is refused (415).
_LABELS_BY_CODEC = {
    "utf-8": "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    "cp866": "866 cp866 csibm866 ibm866",
    "iso8859-2": "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2",
    "iso8859-3": "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3",
    "iso8859-4": "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4",
    "iso8859-5": "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5 iso_8859-5:1988",
    "iso8859-6": "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6 iso-8859-6-e "
                 "iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987",
    "iso8859-7": "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7 iso88597 "
                 "iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    "iso8859-8": "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8 iso88598 "
                 "iso_8859-8 iso_8859-8:1988 visual csiso88598i iso-8859-8-i logical",
    "iso8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    "iso8859-13": "iso-8859-13 iso8859-13 iso885913",
    "iso8859-14": "iso-8859-14 iso8859-14 iso885914",
    "iso8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    "iso8859-16": "iso-8859-16",
    "koi8-r": "cskoi8r koi koi8 koi8-r koi8_r",
    "koi8-u": "koi8-ru koi8-u",
    "mac-roman": "csmacintosh mac macintosh x-mac-roman",
    "cp874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "cp1250": "cp1250 windows-1250 x-cp1250",
    "cp1251": "cp1251 windows-1251 x-cp1251",
    "cp1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 iso88591 "
              "iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252",
    "cp1253": "cp1253 windows-1253 x-cp1253",
    "cp1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 l5 latin5 "
              "windows-1254 x-cp1254",
    "cp1255": "cp1255 windows-1255 x-cp1255",
    "cp1256": "cp1256 windows-1256 x-cp1256",
    "cp1257": "cp1257 windows-1257 x-cp1257",
    "cp1258": "cp1258 windows-1258 x-cp1258",
    "mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "gb18030": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk gb18030",
    "big5hkscs": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "euc_jp": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "iso2022_jp": "csiso2022jp iso-2022-jp",
    "cp932": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "cp949": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 "
             "windows-949",
    "utf-16-be": "unicodefffe utf-16be",
    "utf-16": "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",  # a BOM says the byte order
    "utf-16-le": "",  # by Python's name only
}
WEB_LABELS = {label: codec for codec, labels in _LABELS_BY_CODEC.items() for label in labels.split()}


def text_encoding(charset: str) -> str:
    """The codec to read a body in `charset` with: one of the web's encodings, by one of the Standard's labels or
    by a name Python gives the same encoding (latin-1, cp932, utf-16-le)."""
    label = charset.strip().lower()
    if label in WEB_LABELS:
        return WEB_LABELS[label]
    try:
        name = codecs.lookup(label).name
    except LookupError as exc:
        raise UnsupportedMediaType(f"Unknown charset '{charset}'.") from exc
    codec = WEB_LABELS.get(name) or WEB_LABELS.get(name.replace("_", "-"))
    if codec is None and name in _LABELS_BY_CODEC:
        codec = name
    if codec is None:
        raise UnsupportedMediaType(f"'{charset}' is not one of the web's character encodings.")
    return codec


def decode_text(body: bytes, charset: str) -> str:
    return _decoded(body, text_encoding(charset), charset)


def _decoded(body: bytes, codec: str, charset: str) -> str:
    try:
        return body.decode(codec)
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
    text = _decoded(body, "ascii" if encoding != "utf-8" else "utf-8", charset)  # percent-escapes, or UTF-8 as is
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
