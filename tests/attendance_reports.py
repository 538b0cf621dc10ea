"""Participant reports as the webinar tools export them, for the attendance import's tests and bench: Zoom Webinar's
attendee report (UTF-8 with a BOM, sections, a row per join, registrants who never came marked No), Zoom Meetings'
participant list in Japanese, and Microsoft Teams' attendance report (UTF-16, tab-separated, numbered sections) in
English and Japanese. A person is (email, joined, left, minutes); joined None: registered, never came."""

from __future__ import annotations

import codecs
import csv
import io

Person = tuple[str, str | None, str | None, int]  # email, join time, leave time (as the tool writes them), minutes


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def zoom_webinar_en(people: list[Person], topic: str = "Designing lead scores sales trust") -> bytes:
    header = ["Attended", "User Name (Original Name)", "First Name", "Last Name", "Email", "Phone",
              "Registration Time", "Approval Status", "Join Time", "Leave Time", "Time in Session (minutes)",
              "Is Guest", "Country/Region Name", "Source Name"]
    rows = [["Attendee Report"], ["Report Generated:", "12/10/2026 04:12 PM"],
            ["Topic", "Webinar ID", "Actual Start Time", "Actual Duration (minutes)", "# Registered", "# Cancelled",
             "Unique Viewers", "Total Users", "Max Concurrent Views"],
            [topic, "'812 3456 7890", "12/10/2026 01:58:02 PM", "64", str(len(people)), "0", "0", "0", "0"],
            [], ["Host Details"],
            ["Attended", "User Name (Original Name)", "Email", "Join Time", "Leave Time", "Time in Session (minutes)",
             "Is Guest", "Country/Region Name"],
            ["Yes", "Mirai Kobo (host)", "host@mirai.example", "12/10/2026 01:50:00 PM", "12/10/2026 03:05:00 PM",
             "75", "No", "Japan"],
            [], ["Panelist Details"], ["Attended", "User Name (Original Name)", "Email", "Join Time", "Leave Time",
                                       "Time in Session (minutes)", "Is Guest", "Country/Region Name"],
            [], ["Attendee Details"], header]
    for number, (email, joined, left, minutes) in enumerate(people):
        rows.append(["Yes" if joined else "No", f"Attendee {number}", "Taro", f"Sample{number}", email, "",
                     "12/01/2026 10:00:00 AM", "approved", joined or "--", left or "--",
                     str(minutes) if joined else "--", "No" if joined else "--", "Japan", ""])
    rows += [[], ["Other Attended"], ["User Name (Original Name)", "Email", "Join Time", "Leave Time",
                                      "Time in Session (minutes)", "Is Guest", "Country/Region Name"]]
    return codecs.BOM_UTF8 + _csv(rows).encode("utf-8")


def zoom_meeting_ja(people: list[Person]) -> bytes:
    """Zoom Meetings' participant list, exported from the Japanese web portal (a row per join, guests without an
    address), in Shift_JIS as Excel in Japan saves it again."""
    rows = [["名前（元の名前）", "メール", "参加時刻", "退出時刻", "期間（分）", "ゲスト", "録画の同意"]]
    rows += [[f"参加者{number}", email, joined or "", left or "", str(minutes), "はい", "Y"]
             for number, (email, joined, left, minutes) in enumerate(people) if joined]
    rows.append(["ゲスト（iPhone）", "", "2026/12/10 14:02:11", "2026/12/10 14:30:00", "28", "はい", "Y"])
    return _csv(rows).encode("cp932")


def teams_en(people: list[Person]) -> bytes:
    rows = [["1. Summary"], ["Meeting title", "Designing lead scores sales trust"], ["Attended participants",
                                                                                      str(len(people))],
            ["Start time", "12/10/26, 1:55:03 PM"], ["End time", "12/10/26, 3:04:41 PM"],
            ["Meeting duration", "1h 9m 38s"], [], ["2. Participants"],
            ["Name", "First Join", "Last Leave", "In-Meeting Duration", "Email", "Participant ID (UPN)", "Role"],
            ["Mirai Organizer", "12/10/26, 1:55:03 PM", "12/10/26, 3:04:41 PM", "1h 9m 38s", "host@mirai.example",
             "host@mirai.example", "Organizer"]]
    rows += [[f"Attendee {number}", joined or "", left or "", f"{minutes // 60}h {minutes % 60}m 5s" if minutes >= 60
              else f"{minutes}m 5s", email, email, "Attendee"]
             for number, (email, joined, left, minutes) in enumerate(people) if joined]
    rows += [[], ["3. In-Meeting Activities"], ["Name", "Join Time", "Leave Time", "Duration", "Email", "Role"]]
    rows += [[f"Attendee {number}", joined or "", left or "", f"{minutes}m 5s", email, "Attendee"]
             for number, (email, joined, left, minutes) in enumerate(people) if joined]
    return _csv(rows, "\t").encode("utf-16")


def teams_ja(people: list[Person]) -> bytes:
    rows = [["1. 概要"], ["会議のタイトル", "スコアリング設計の実践"], ["出席者数", str(len(people))],
            ["開始時刻", "2026/12/10 13:55:03"], ["終了時刻", "2026/12/10 15:04:41"], [], ["2. 参加者"],
            ["名前", "最初の参加", "最後の退出", "会議の長さ", "メール", "参加者 ID (UPN)", "役割"],
            ["ミライ 開催者", "2026/12/10 13:55:03", "2026/12/10 15:04:41", "1 時間 9 分 38 秒", "host@mirai.example",
             "host@mirai.example", "開催者"]]
    rows += [[f"参加者 {number}", joined or "", left or "", f"{minutes} 分 5 秒", email, email, "出席者"]
             for number, (email, joined, left, minutes) in enumerate(people) if joined]
    return _csv(rows, "\t").encode("utf-16")
