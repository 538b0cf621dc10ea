"""Business-card lists: encodings Excel writes, Japanese or English headers, bad rows reported by number."""

import codecs

import pytest

from nurture.domain.importing import ImportRefused, plan_import
from nurture.domain.text import email_key

CARDS = ("氏名,会社名,部署,役職,メールアドレス,電話番号,従業員数\n"
         "山田 太郎,株式会社サンプル,営業部,部長,ｔａｒｏ＠ＥＸＡＭＰＬＥ．co.jp,０３－１２３４－５６７８,１，２００\n"
         "佐藤 花子,サンプル工業,,,hanako@example.jp,,\n"
         "山田 太郎,株式会社サンプル,営業部,,Taro@example.co.jp,,\n"
         "壊れた行,会社,,,not-an-email,,\n"
         ",,,,,,\n")


@pytest.mark.parametrize(("data", "encoding"), [
    (CARDS.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + CARDS.encode("utf-8"), "utf-8-sig"),
    (CARDS.encode("cp932"), "cp932"),
])
def test_the_encodings_excel_writes_are_detected(data, encoding):
    plan = plan_import(data, "expo-2026")
    assert plan.encoding == encoding
    assert plan.rows == 4 and len(plan.submissions) == 2  # the blank line is no row


def test_full_width_addresses_and_numbers_are_folded_and_the_same_person_twice_is_one_lead():
    plan = plan_import(CARDS.encode("utf-8"), "expo-2026")
    (first_row, taro), (_, hanako) = plan.submissions
    assert first_row == 2 and taro.email == "taro@example.co.jp" and taro.email_key == email_key("taro@example.co.jp")
    assert taro.profile["phone"] == "03-1234-5678" and taro.profile["employees"] == "1200"
    assert taro.profile["title"] == "部長" and taro.profile["name"] == "山田 太郎"
    assert plan.duplicates_in_file == 1 and hanako.profile == {"name": "佐藤 花子", "company": "サンプル工業"}
    assert taro.utm == {"utm_source": "expo-2026"} and taro.form.kind == "import"


def test_an_invalid_row_is_reported_with_its_row_number_and_the_rest_go_ahead():
    plan = plan_import(CARDS.encode("utf-8"), "expo-2026")
    assert [(rejected.row, rejected.reasons) for rejected in plan.rejected] == [
        (5, ["email: is not a valid email address"])]


def test_english_headers_and_separate_family_and_given_names():
    data = "Last Name,First Name,Company,Job Title,E-mail\n鈴木,一郎,ACME,CTO,ichiro@example.com\n".encode()
    ((_, submission),) = plan_import(data, "webinar").submissions
    assert submission.profile == {"name": "鈴木 一郎", "company": "ACME", "title": "CTO"}


def test_a_mapping_names_columns_the_headers_do_not():
    data = "連絡先,社名,備考\nsato@example.jp,サンプル,VIP\n".encode()
    with pytest.raises(ImportRefused, match="No email column"):
        plan_import(data, "list")
    ((_, submission),) = plan_import(data, "list", overrides={"連絡先": "email", "備考": ""}).submissions
    assert submission.email == "sato@example.jp" and submission.profile == {"company": "サンプル"}
    with pytest.raises(ImportRefused, match="Unknown fields in --map: mobile"):
        plan_import(data, "list", overrides={"連絡先": "mobile"})


def test_a_consent_basis_is_recorded_as_consent_with_the_source_as_its_version():
    basis = "展示会で案内送付に同意"
    ((_, submission),) = plan_import(b"email\na@example.jp\n", "expo", consent_basis=basis).submissions
    assert submission.consent is True
    assert submission.form.consent is not None and submission.form.consent.purpose == "展示会で案内送付に同意"
    ((_, without),) = plan_import(b"email\na@example.jp\n", "expo").submissions
    assert without.consent is None


def test_a_file_in_another_encoding_is_refused_with_advice():
    with pytest.raises(ImportRefused, match="--encoding"):
        plan_import(b"email\n\x81\x20@example.jp\n", "x")  # neither UTF-8 nor a Shift_JIS double byte


@pytest.mark.parametrize(("given", "said"), [
    ("webinars=opted_in", "unknown subscription types in --subscriptions: webinars"),
    ("seminar=yes", "--subscriptions takes TYPE=opted_in or TYPE=not_until_asked pairs"),
    ("seminar", "--subscriptions takes TYPE=opted_in or TYPE=not_until_asked pairs"),
])
def test_an_import_refuses_subscription_starts_it_cannot_apply(tmp_path, capsys, given, said):
    from nurture.cli.main import main
    from tests.conftest import CONFIG_DIR

    cards = tmp_path / "cards.csv"
    cards.write_text("メールアドレス\ntaro@example.co.jp\n", encoding="utf-8")
    assert main(["--config-dir", str(CONFIG_DIR), "import", str(cards), "--source", "expo", "--subscriptions", given,
                 "--dry-run"]) == 1
    assert said in capsys.readouterr().err
