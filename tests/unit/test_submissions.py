import pytest

from nurture.config import load_config
from nurture.domain.bodies import parse_form_fields
from nurture.domain.errors import MalformedBody, UnsupportedMediaType, ValidationFailed
from nurture.domain.submissions import duplicate_key, is_spam, validate_submission
from tests.conftest import CONFIG_DIR

FORMS = load_config(CONFIG_DIR).forms
CONTACT = {"email": "taro@example.jp", "name": "山田 太郎", "company": "ACME", "consent": "on"}


def codes(error: ValidationFailed) -> dict[str, str]:
    return {problem.field: problem.code for problem in error.problems}


def test_valid_contact_submission_is_normalized():
    submission = validate_submission("contact", FORMS["contact"], {**CONTACT, "phone": "０３－１２３４－５６７８",
                                                                  "inquiry_type": "料金について"})
    assert submission.email == "taro@example.jp"
    assert submission.profile == {"name": "山田 太郎", "company": "ACME", "phone": "03-1234-5678"}
    assert submission.custom == {"inquiry_type": "料金について"}
    assert submission.consent is True


def test_empty_fields_never_reach_the_profile():
    submission = validate_submission("contact", FORMS["contact"], {**CONTACT, "title": "", "department": "  "})
    assert "title" not in submission.profile and "department" not in submission.profile


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationFailed) as raised:
        validate_submission("contact", FORMS["contact"], {"email": "not-an-email", "name": "x" * 201})
    assert codes(raised.value) == {"email": "invalid", "name": "too_long", "consent": "required",
                                   "company": "required"}


def test_declined_required_consent_is_refused():
    with pytest.raises(ValidationFailed) as raised:
        validate_submission("contact", FORMS["contact"], {**CONTACT, "consent": "false"})
    assert codes(raised.value) == {"consent": "required"}


def test_choice_and_number_custom_fields_are_checked():
    with pytest.raises(ValidationFailed) as raised:
        validate_submission("demo", FORMS["demo"], {"email": "a@example.com", "name": "A", "company": "B",
                                                     "phone": "03-1111-2222", "consent": "true", "seats": "many"})
    assert codes(raised.value) == {"seats": "invalid"}
    with pytest.raises(ValidationFailed) as raised:
        validate_submission("seminar", FORMS["seminar"], {"email": "a@example.com", "name": "A", "company": "B",
                                                          "title": "部長", "consent": "on", "session": "someday"})
    assert codes(raised.value) == {"session": "invalid"}


def test_invalid_visitor_id_and_time_zone_are_refused():
    with pytest.raises(ValidationFailed) as raised:
        validate_submission("contact", FORMS["contact"], {**CONTACT, "vid": "<script>", "timezone": "Mars/Olympus"})
    assert codes(raised.value) == {"vid": "invalid", "timezone": "invalid"}


def test_honeypot_marks_spam():
    assert is_spam(FORMS["contact"], {**CONTACT, "website": "http://spam.example"})
    assert not is_spam(FORMS["contact"], CONTACT)


def test_same_fields_give_same_duplicate_key_and_idempotency_key_wins():
    first = validate_submission("contact", FORMS["contact"], CONTACT)
    again = validate_submission("contact", FORMS["contact"], {**CONTACT, "email": "TARO@example.jp"})
    changed = validate_submission("contact", FORMS["contact"], {**CONTACT, "company": "Other"})
    assert duplicate_key(first, None) == duplicate_key(again, None) != duplicate_key(changed, None)
    assert duplicate_key(first, "k1") == duplicate_key(changed, "k1") != duplicate_key(first, "k2")


def test_json_urlencoded_and_multipart_bodies_give_the_same_fields():
    as_json = parse_form_fields("application/json", b'{"email": "a@example.com", "consent": true, "employees": 50}')
    as_form = parse_form_fields("application/x-www-form-urlencoded",
                                b"email=a%40example.com&consent=true&employees=50")
    multipart = (b"--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n"
                 b"--XyZ\r\nContent-Disposition: form-data; name=\"consent\"\r\n\r\ntrue\r\n"
                 b"--XyZ\r\nContent-Disposition: form-data; name=\"employees\"\r\n\r\n50\r\n--XyZ--\r\n")
    as_multipart = parse_form_fields("multipart/form-data; boundary=XyZ", multipart)
    assert as_json == as_form == as_multipart == {"email": "a@example.com", "consent": "true", "employees": "50"}


def test_shift_jis_form_post_is_decoded():
    body = b"name=%" + "山田".encode("shift_jis").hex("%").upper().encode()
    assert parse_form_fields("application/x-www-form-urlencoded; charset=Shift_JIS", body) == {"name": "山田"}


@pytest.mark.parametrize(
    ("content_type", "body", "error"),
    [
        ("application/json", b"{not json", MalformedBody),
        ("application/json", b"[1, 2]", MalformedBody),
        ("application/json", b"\xff\xfe", MalformedBody),
        ("multipart/form-data", b"--x--", MalformedBody),
        ("text/xml", b"<a/>", UnsupportedMediaType),
        (None, b"email=a", UnsupportedMediaType),
        ("application/x-www-form-urlencoded; charset=klingon", b"a=b", UnsupportedMediaType),
    ],
)
def test_unparseable_bodies_are_refused(content_type, body, error):
    with pytest.raises(error):
        parse_form_fields(content_type, body)


def test_nested_json_values_are_refused_per_field():
    with pytest.raises(ValidationFailed) as raised:
        parse_form_fields("application/json", b'{"email": "a@example.com", "name": {"first": "A"}}')
    assert codes(raised.value) == {"name": "not_a_scalar"}


def test_file_uploads_are_refused():
    body = (b"--b\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.pdf\"\r\n"
            b"Content-Type: application/pdf\r\n\r\n%PDF\r\n--b--\r\n")
    with pytest.raises(ValidationFailed) as raised:
        parse_form_fields("multipart/form-data; boundary=b", body)
    assert codes(raised.value) == {"cv": "file_not_accepted"}


@pytest.mark.parametrize("value", ["至急ご確認ください https://evil.example/login", "ｈｔｔｐｓ：／／evil.example",
                                   "www.evil.example", "連絡先 info@evil.example", "@evil.co.jp", "javascript:x()"])
@pytest.mark.parametrize("field", ["name", "company", "title", "department", "industry", "country"])
def test_fields_emails_show_refuse_anything_a_mail_client_would_link(field, value):
    with pytest.raises(ValidationFailed) as raised:
        validate_submission("contact", FORMS["contact"], {**CONTACT, field: value})
    assert codes(raised.value) == {field: "no_links"}


def test_a_custom_field_marked_rendered_refuses_links_and_others_keep_them():
    from nurture.config.models import CustomField, FormDefinition

    form = FormDefinition(kind="contact", title="t", custom_fields=[
        CustomField(name="seat_note", rendered=True), CustomField(name="message", multiline=True)])
    with pytest.raises(ValidationFailed) as raised:
        validate_submission("f", form, {"email": "a@example.jp", "seat_note": "see www.evil.example"})
    assert codes(raised.value) == {"seat_note": "no_links"}
    kept = validate_submission("f", form, {"email": "a@example.jp", "message": "資料: https://example.co.jp/x"})
    assert kept.custom["message"] == "資料: https://example.co.jp/x"  # never shown in an email: sales read it


def test_invisible_and_control_characters_are_removed_from_every_stored_field():
    submission = validate_submission("contact", FORMS["contact"], {
        **CONTACT, "name": "\u202e山田\u0000 太郎\u200b", "company": "A\u2066CME\x85", "utm_source": "ad\x07s",
        "message": "一行目\r\n\t二行目\u2028三行目\x00\u202e"})
    assert submission.profile["name"] == "山田 太郎" and submission.profile["company"] == "ACME"
    assert submission.utm == {"utm_source": "ads"}
    assert submission.custom["message"] == "一行目\n\t二行目\n三行目"  # a multi-line field keeps its lines
