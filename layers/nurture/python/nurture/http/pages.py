"""Small HTML pages for people who post plain forms or follow tracking links, in Japanese or English."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape

from nurture.config.models import FormDefinition
from nurture.config.subscriptions import SubscriptionType
from nurture.domain.errors import FieldProblem
from nurture.domain.preferences.centre import Preferences

# The smallest transparent GIF.
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

_TEXT = {
    "ja": {
        "thanks_title": "送信が完了しました",
        "errors_title": "入力内容をご確認ください",
        "errors_body": "次の項目に問題があります。",
        "back": "前のページに戻る",
        "not_found_title": "フォームが見つかりません",
        "invalid_link_title": "このリンクは無効です",
        "invalid_link_body": "リンクが壊れているか、改ざんされています。メール内のリンクをもう一度お試しください。",
        "download_expired_title": "ダウンロードの有効期限が切れています",
        "download_expired_body": "お手数ですが、資料をもう一度お申し込みください。新しいリンクをお送りします。",
        "material_missing_title": "資料を準備中です",
        "material_missing_body": "ただいま資料をご用意できません。しばらくしてから、もう一度お試しください。",
        "registration_expired_title": "このセッションはすでに始まっています",
        "registration_expired_body": "開始後のお申し込みの変更・キャンセルは承っておりません。",
    },
    "en": {
        "thanks_title": "Thank you",
        "errors_title": "Please check your entries",
        "errors_body": "These fields need attention:",
        "back": "Back to the previous page",
        "not_found_title": "Form not found",
        "invalid_link_title": "This link is not valid",
        "invalid_link_body": "The link is broken or was altered. Please try the link in the email again.",
        "download_expired_title": "This download link has expired",
        "download_expired_body": "Please request the material again: we will send you a new link.",
        "material_missing_title": "The material is not available yet",
        "material_missing_body": "We cannot hand out this material right now. Please try again later.",
        "registration_expired_title": "This session has already started",
        "registration_expired_body": "A registration cannot be changed or cancelled once its session has begun.",
    },
}
# What the built-in thank-you page says, by the kind of form: what happens next, and nothing it cannot keep.
_THANKS: dict[str, dict[str, str]] = {
    "ja": {
        "contact": "お問い合わせありがとうございます。内容を確認のうえ、担当者よりご連絡いたします。",
        "download": "資料のお申し込みありがとうございます。",
        "download_emailed": "ダウンロード用のリンクを、ご入力のメールアドレスにお送りしました。",
        "seminar": "セミナーへのお申し込みありがとうございます。お申し込み内容を確認のうえ、ご連絡いたします。",
        "demo_request": "デモのご依頼ありがとうございます。担当者より日程調整のご連絡を差し上げます。",
        "newsletter": "ご登録ありがとうございます。",
        "confirm_by_email": "ご入力のメールアドレスに確認メールをお送りしました。"
                            "メール内のリンクからご登録を確定してください。",
        "download_link": "資料をダウンロードする",
    },
    "en": {
        "contact": "Thank you for getting in touch. We will review your message and reply soon.",
        "download": "Thank you for your request.",
        "download_emailed": "We have emailed a download link to the address you entered.",
        "seminar": "Thank you for signing up. We will confirm your registration shortly.",
        "demo_request": "Thank you for requesting a demo. We will be in touch to arrange a time.",
        "newsletter": "Thank you for signing up.",
        "confirm_by_email": "We have sent a confirmation email to the address you entered: please confirm through its "
                            "link.",
        "download_link": "Download the material",
    },
}


# What a person reads on the HTML error page, by problem code; the JSON API keeps the English message.
_PROBLEM_TEXT = {
    "ja": {"required": "入力してください", "invalid": "正しい形式で入力してください",
           "too_long": "文字数が多すぎます", "not_a_scalar": "正しい形式で入力してください",
           "file_not_accepted": "ファイルは送信できません",
           "no_links": "URLやメールアドレスは入力できません"},
    "en": {"required": "is required", "invalid": "is not valid", "too_long": "is too long",
           "not_a_scalar": "is not valid", "file_not_accepted": "cannot be a file",
           "no_links": "cannot contain a web or email address"},
}
_FIELD_LABELS = {
    "ja": {"email": "メールアドレス", "name": "氏名", "company": "会社名", "title": "役職", "department": "部署",
           "industry": "業種", "employees": "従業員数", "phone": "電話番号", "country": "国", "prefecture": "都道府県",
           "timezone": "タイムゾーン", "consent": "個人情報の取り扱いへの同意"},
    "en": {"email": "Email", "name": "Name", "company": "Company", "title": "Job title", "department": "Department",
           "industry": "Industry", "employees": "Employees", "phone": "Phone", "country": "Country",
           "prefecture": "Prefecture",
           "timezone": "Time zone", "consent": "Consent to the privacy notice"},
}


_PREFERENCES = {
    "ja": {"title": "配信設定", "intro": "受け取るメールを選んでください。", "save": "設定を保存する",
           "saved": "設定を保存しました。", "everything_intro": "すべてのメールを停止する場合:",
           "everything": "すべて停止する", "all_off": "すべてのメールの配信を停止しています。"},
    "en": {"title": "Email preferences", "intro": "Choose the emails you receive.", "save": "Save my choices",
           "saved": "Your choices are saved.", "everything_intro": "To stop every email:",
           "everything": "Unsubscribe from everything", "all_off": "You have unsubscribed from every email."},
}


def preference_page(preferences: Preferences, types: Mapping[str, SubscriptionType], saved: bool = False) -> str:
    """The lead's choices, in its language: a checkbox a type (labelled, keyboard-usable, no JavaScript)
    posting the whole set, and a second form that leaves everything."""
    language = preferences.language
    words = _PREFERENCES[language]
    if preferences.unsubscribed:
        return page(language, words["title"], f"<p>{escape(words['all_off'])}</p>")
    boxes = "".join(
        f'<p><input type="checkbox" name="receive" value="{escape(kind)}" id="receive-{escape(kind)}"'
        f'{" checked" if preferences.receives.get(kind) else ""}>'
        f' <label for="receive-{escape(kind)}">{escape(getattr(definition.name, language))}</label><br>'
        f"<small>{escape(getattr(definition.description, language))}</small></p>"
        for kind, definition in types.items())
    return page(language, words["title"],
                (f'<p role="status">{escape(words["saved"])}</p>' if saved else "")
                + f"<p>{escape(words['intro'])}</p>"
                f'<form method="post"><fieldset><legend>{escape(words["title"])}</legend>{boxes}</fieldset>'
                f'<input type="hidden" name="save" value="1"><button type="submit">{escape(words["save"])}</button>'
                f"</form><p>{escape(words['everything_intro'])}</p>"
                '<form method="post"><input type="hidden" name="scope" value="everything">'
                f'<button type="submit">{escape(words["everything"])}</button></form>')


def unsubscribed_page(kind: SubscriptionType | None) -> str:
    """`kind`: the one subscription type left (None: everything)."""
    if kind is None:
        return page("ja", "配信を停止しました / Unsubscribed",
                    "<p>今後、メールはお送りしません。</p><p>You will not receive these emails any more.</p>")
    return page("ja", "配信を停止しました / Unsubscribed",
                f"<p>「{escape(kind.name.ja)}」は今後お送りしません。</p>"
                f"<p>You will not receive {escape(kind.name.en)} any more.</p>")


_CONFIRMATION = {
    "ja": {"title": "ご登録の確定", "intro": "下のボタンを押すと、ご登録が確定します。", "confirm": "登録を確定する",
           "done_title": "ご登録が確定しました", "done": "ご登録ありがとうございます。今後、ご案内をお送りします。",
           "gone_title": "このリンクは有効期限が切れています",
           "gone": "確定されなかったご登録は削除されました。お手数ですが、もう一度ご登録ください。"},
    "en": {"title": "Confirm your sign-up", "intro": "Press the button below to confirm your sign-up.",
           "confirm": "Confirm my sign-up", "done_title": "Your sign-up is confirmed",
           "done": "Thank you: you will hear from us from now on.",
           "gone_title": "This link has expired",
           "gone": "A sign-up that was not confirmed is deleted. Please sign up again."},
}


def confirmation_page(language: str, confirmed: bool) -> str:
    """A pending sign-up: one button that posts (a mail scanner's GET confirms nothing); or that it is done."""
    words = _CONFIRMATION[language]
    if confirmed:
        return page(language, words["done_title"], f"<p>{escape(words['done'])}</p>")
    return page(language, words["title"], f"<p>{escape(words['intro'])}</p>"
                f'<form method="post"><button type="submit">{escape(words["confirm"])}</button></form>')


def expired_confirmation_page() -> str:
    """A removed (or erased) lead's link, or one past its time: the lead's language is not known any more."""
    return page("ja", f"{_CONFIRMATION['ja']['gone_title']} / {_CONFIRMATION['en']['gone_title']}",
                f"<p>{escape(_CONFIRMATION['ja']['gone'])}</p><p>{escape(_CONFIRMATION['en']['gone'])}</p>")


_REGISTRATION = {
    "ja": {"title": "セミナーのお申し込み", "registered": "ご参加のお申し込みを承っています。",
           "waitlisted": "キャンセル待ちで承っています。", "cancel": "申し込みをキャンセルする",
           "cancel_waitlist": "キャンセル待ちを取り消す",
           "note": "キャンセルすると、お席はキャンセル待ちの方にお譲りします。",
           "cancelled_title": "キャンセルを承りました",
           "cancelled": "またのご参加をお待ちしております。改めてお申し込みいただくこともできます。",
           "started_title": "このセッションはすでに始まっています",
           "started": "開始後のキャンセルは承っておりません。"},
    "en": {"title": "Your seminar registration", "registered": "You are registered.",
           "waitlisted": "You are on the waitlist.", "cancel": "Cancel my registration",
           "cancel_waitlist": "Leave the waitlist",
           "note": "If you cancel, your seat goes to the first person on the waitlist.",
           "cancelled_title": "Your registration is cancelled",
           "cancelled": "We hope to see you another time. You can register again whenever you like.",
           "started_title": "This session has already started",
           "started": "A registration cannot be cancelled once its session has begun."},
}


def registration_page(language: str, state: str, title: str, starts: str) -> str:
    """A registration's page: what it is and one button that posts (a mail scanner's GET cancels nothing); or
    that it is cancelled, or that its session has begun. Everything shown is the marketer's config."""
    words = _REGISTRATION[language]
    if state == "cancelled":
        return page(language, words["cancelled_title"], f"<p>{escape(title)}</p><p>{escape(words['cancelled'])}</p>")
    what = f"<p><strong>{escape(title)}</strong><br>{escape(starts)}</p>"
    if state == "started":
        return page(language, words["started_title"], f"{what}<p>{escape(words['started'])}</p>")
    button = words["cancel_waitlist"] if state == "waitlisted" else words["cancel"]
    return page(language, words["title"], f"{what}<p>{escape(words[state])}</p><p>{escape(words['note'])}</p>"
                f'<form method="post"><button type="submit">{escape(button)}</button></form>')


def text(language: str, key: str) -> str:
    return _TEXT.get(language, _TEXT["en"])[key]


def page(language: str, title: str, body_html: str) -> str:
    return (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>{body_html}</main></body></html>"
    )


def thanks_page(form: FormDefinition, back_url: str | None, download_link: str | None = None) -> str:
    """What fits the form's kind (a download form links its material: its public copy, else the post's own signed
    link); a way back that needs no script."""
    language = form.language if form.language in _THANKS else "en"
    said = _THANKS[language]
    body = f"<p>{escape(form.title)}</p><p>{escape(said.get(form.kind, said['contact']))}</p>"
    if form.double_opt_in:  # the same words whether the address was new: nothing tells a stranger it was known
        body += f"<p>{escape(said['confirm_by_email'])}</p>"
    elif form.kind == "download":
        body += f"<p>{escape(said['download_emailed'])}</p>"
    link = form.asset_url or download_link if form.kind == "download" else None
    if link:
        body += f'<p><a href="{escape(link)}" download>{escape(said["download_link"])}</a></p>'
    return page(language, text(language, "thanks_title"), body + _back(language, back_url))


def errors_page(language: str, problems: list[FieldProblem], detail: str, labels: dict[str, str],
                back_url: str | None) -> str:
    """`labels`: the form's own field labels (custom fields), over the standard ones."""
    known = {**_FIELD_LABELS.get(language, _FIELD_LABELS["en"]), **labels}
    messages = _PROBLEM_TEXT.get(language, _PROBLEM_TEXT["en"])
    items = "".join(
        f"<li><strong>{escape(known.get(p.field, p.field))}</strong>: {escape(messages.get(p.code, p.message))}</li>"
        for p in problems
    ) or f"<li>{escape(detail)}</li>"
    return page(language, text(language, "errors_title"),
                f"<p>{escape(text(language, 'errors_body'))}</p><ul>{items}</ul>{_back(language, back_url)}")


def _back(language: str, url: str | None) -> str:
    """A plain link back to the page the form was on (known only when the browser said, from a site this
    sender owns); the browser's own Back button otherwise."""
    return f'<p><a href="{escape(url)}">{escape(text(language, "back"))}</a></p>' if url else ""


def simple_page(language: str, title_key: str, body: str = "") -> str:
    return page(language, text(language, title_key), f"<p>{escape(body)}</p>" if body else "")
