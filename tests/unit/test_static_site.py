"""The local runtime serves the demo site and the snippet like a site's web server, and nothing beside them."""

from pathlib import Path

from nurture.local.site import StaticSite


def site(tmp_path: Path) -> StaticSite:
    (tmp_path / "web" / "demo").mkdir(parents=True)
    (tmp_path / "web" / "demo" / "index.html").write_text("<h1>トップ</h1>", encoding="utf-8")
    (tmp_path / "web" / "nurture.js").write_text("source", encoding="utf-8")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "nurture.min.js").write_text("minified", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not served", encoding="utf-8")
    return StaticSite([tmp_path / "web", tmp_path / "build"])


def test_a_folder_serves_its_index_page_as_utf8_html(tmp_path):
    page = site(tmp_path).page("/demo/")
    assert page is not None and page.status == 200
    assert page.content_type == "text/html; charset=utf-8" and page.body.decode() == "<h1>トップ</h1>"


def test_files_are_looked_up_in_each_folder_in_turn(tmp_path):
    served = site(tmp_path)
    assert served.page("/nurture.js").body == b"source"  # type: ignore[union-attr]
    minified = served.page("/nurture.min.js")
    assert minified is not None and minified.body == b"minified"
    assert minified.content_type.startswith(("text/javascript", "application/javascript"))


def test_nothing_outside_the_folders_is_served(tmp_path):
    served = site(tmp_path)
    assert served.page("/../secret.txt") is None
    assert served.page("/demo/../../secret.txt") is None
    assert served.page("/missing.html") is None


def test_a_name_the_file_system_refuses_is_not_found_rather_than_an_error(tmp_path):
    served = site(tmp_path)
    assert served.page("/demo/" + "a" * 300) is None
    assert served.page("/demo/\x00.html") is None


def test_sources_the_site_is_built_from_are_not_served(tmp_path):
    served = site(tmp_path)
    (tmp_path / "web" / "demo" / "_layout.html").write_text("{% block main %}{% endblock %}", encoding="utf-8")
    (tmp_path / "web" / "demo" / "_pages").mkdir()
    (tmp_path / "web" / "demo" / "_pages" / "index.html").write_text("{% extends %}", encoding="utf-8")
    assert served.page("/demo/_layout.html") is None
    assert served.page("/demo/_pages/index.html") is None and served.page("/demo/_pages/") is None
