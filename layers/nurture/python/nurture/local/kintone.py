"""A local kintone, `/_kintone`: takes the CRM push's `PUT /k/v1/records.json` and checks each request as kintone's
REST API documents it (API token header, JSON body, the app, upsert by a unique key field, field codes the app has,
values as `{"value": text}`), answers as kintone does (200 with each record's id, revision and operation; an error
body with a kintone error code), and keeps the records for a page to show.

The app it stands for has the key field and the field codes config/sales.yaml's `crm.kintone` maps, unless it is
given others (a test of a mapping the app does not have)."""

from __future__ import annotations

import json
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from html import escape
from typing import Any

from nurture.config.sales import KINTONE, KintoneApp
from nurture.domain.sales.crm import KINTONE_RECORDS_PATH
from nurture.local.gateway import Page
from nurture.local.webhooks import stored_secret

PATH = "/_kintone"
MAX_RECORDS = 100  # kintone's limit per request


@dataclass
class KintoneRecord:
    id: int
    revision: int
    values: dict[str, str]


@dataclass
class Request:
    status: int
    code: str | None  # kintone's error code when refused
    body: Any


@dataclass
class KintoneFake:
    parameter_prefix: str
    app: KintoneApp | None
    field_codes: Collection[str] | None = None  # the app's fields; by default those `app` maps, and its key field
    token: str | None = None  # the API token the app issued; by default the one the kintone parameter holds
    records: dict[str, KintoneRecord] = field(default_factory=dict)  # by the key field's value
    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Page | None:
        if path != f"{PATH}{KINTONE_RECORDS_PATH}":
            return None
        with self._lock:
            status, answer = self._answer(method, headers, body)
            code = answer.get("code") if status != 200 else None
            self.requests.append(Request(status, code, _json_or_text(body)))
        return Page(status, "application/json; charset=utf-8", json.dumps(answer, ensure_ascii=False).encode())

    def _answer(self, method: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if method != "PUT":
            return _error(405, "CB_NO02", "この HTTP メソッドは使用できません。")
        token = self.token or stored_secret(self.parameter_prefix, KINTONE)
        given = [t.strip() for t in headers.get("x-cybozu-api-token", "").split(",") if t.strip()]
        if token is None or token not in given:
            return _error(401, "GAIA_IA02", "指定したAPIトークンが無効です。")
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return _error(415, "CB_IJ01", "Content-Type が application/json ではありません。")
        try:
            request = json.loads(body)
        except ValueError:
            return _error(400, "CB_IJ01", "JSON の形式が正しくありません。")
        if not isinstance(request, dict) or self.app is None or str(request.get("app")) != str(self.app.app):
            return _error(404, "GAIA_AP01", "指定したアプリ（id: {}）が見つかりません。".format(
                request.get("app") if isinstance(request, dict) else None))
        problems = self._problems(request)
        if problems:
            return 400, {"code": "CB_VA01", "id": "local", "message": "入力内容が正しくありません。",
                         "errors": {where: {"messages": [message]} for where, message in problems.items()}}
        return 200, {"records": [self._upsert(r) for r in request["records"]]}

    def _problems(self, request: dict[str, Any]) -> dict[str, str]:
        assert self.app is not None
        codes = set(self.field_codes if self.field_codes is not None else [*self.app.fields.values(),
                                                                           self.app.key_field])
        problems: dict[str, str] = {}
        if request.get("upsert") is not True:
            problems["upsert"] = "UPSERT モード (true) で送ってください。"  # the connector always upserts
        records = request.get("records")
        if not isinstance(records, list) or not 1 <= len(records) <= MAX_RECORDS:
            return {**problems, "records": f"1件以上{MAX_RECORDS}件以下で指定してください。"}
        for n, record in enumerate(records):
            key = record.get("updateKey") if isinstance(record, dict) else None
            if not isinstance(key, dict) or key.get("field") != self.app.key_field or \
                    not isinstance(key.get("value"), str) or not key["value"]:
                problems[f"records[{n}].updateKey"] = "重複禁止のフィールドとその値を指定してください。"
            values = record.get("record") if isinstance(record, dict) else None
            if not isinstance(values, dict):
                problems[f"records[{n}].record"] = "オブジェクトで指定してください。"
                continue
            for code, value in values.items():
                where = f"records[{n}].record.{code}"
                if code not in codes:
                    problems[where] = f"指定したフィールド（code: {code}）が見つかりません。"
                elif code == self.app.key_field:
                    problems[where] = "updateKey に指定したフィールドは record に含められません。"
                elif not isinstance(value, dict) or set(value) != {"value"} or not isinstance(value["value"], str):
                    problems[where] = "{\"value\": 文字列} の形式で指定してください。"
        return problems

    def _upsert(self, request: dict[str, Any]) -> dict[str, str]:
        key = str(request["updateKey"]["value"])
        values = {code: value["value"] for code, value in request["record"].items()}
        known = self.records.get(key)
        if known is None:
            self.records[key] = KintoneRecord(len(self.records) + 1, 1, values)
            return {"id": str(len(self.records)), "revision": "1", "operation": "INSERT"}
        known.values.update(values)
        known.revision += 1
        return {"id": str(known.id), "revision": str(known.revision), "operation": "UPDATE"}

    def page(self, path: str) -> Page | None:
        """`/_kintone` shows the app's records; `/_kintone.json` gives them and every request for scripts."""
        with self._lock:
            records = {key: {"id": r.id, "revision": r.revision, "values": dict(r.values)}
                       for key, r in self.records.items()}
            requests = [{"status": r.status, "code": r.code, "body": r.body} for r in self.requests]
        if path == f"{PATH}.json":
            return Page(200, "application/json", json.dumps({"records": records, "requests": requests},
                                                            ensure_ascii=False).encode())
        if path.rstrip("/") != PATH:
            return None
        rows = "".join(f"<tr><td>{escape(key)}</td><td>{record['revision']}</td><td>"
                       + escape(json.dumps(record["values"], ensure_ascii=False)) + "</td></tr>"
                       for key, record in records.items())
        refused = sum(1 for r in requests if r["status"] != 200)
        html = (f"<!doctype html><meta charset=utf-8><title>kintone (local)</title><h1>kintone app "
                f"{self.app.app if self.app else '(none)'} (local)</h1><p>{len(requests)} requests, {refused} "
                f"refused.</p><table><tr><th>lead</th><th>revision</th><th>record</th></tr>{rows}</table>")
        return Page(200, "text/html; charset=utf-8", html.encode())


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "id": "local", "message": message}


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
