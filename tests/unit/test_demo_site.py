"""The demo site's pages are built from one layout, as plain HTML a site owner can copy."""

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from nurture.local.demo_site import build
from tests.conftest import REPO

SOURCE = REPO / "web" / "demo"


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""


def outline(page: Path) -> _Outline:
    parsed = _Outline()
    parsed.feed(page.read_text(encoding="utf-8"))
    return parsed


def test_every_page_is_built_as_plain_html_in_its_language(tmp_path):
    pages = build(SOURCE, tmp_path)
    assert len(pages) == len(list((SOURCE / "_pages").rglob("*.html"))) >= 16
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "{%" not in text and "{{" not in text and "{#" not in text  # nothing of the template is left
        parsed = outline(page)
        assert parsed.lang == ("en" if page.parent.name == "en" else "ja")
        assert [tag for tag in parsed.tags if tag in ("html", "head", "body", "header", "main", "footer")] == [
            "html", "head", "body", "header", "main", "footer"]
        assert text.count('<script src="/nurture.min.js"') == 1  # the snippet on every page, once
        assert re.search(r"<title>[^<|]+ \| (ミライ在庫|MiraiStock)</title>", text)


def test_a_change_to_the_layout_is_made_once_and_reaches_every_page(tmp_path):
    source = tmp_path / "demo"
    shutil.copytree(SOURCE / "_pages", source / "_pages")
    layout = (SOURCE / "_layout.html").read_text(encoding="utf-8")
    (source / "_layout.html").write_text(layout.replace("</head>", '<meta name="marker" content="once">\n</head>'),
                                         encoding="utf-8")
    pages = build(source, tmp_path / "out")
    assert pages and all('<meta name="marker" content="once">' in page.read_text(encoding="utf-8")
                         for page in pages)


def test_a_page_removed_from_the_sources_is_no_longer_built(tmp_path):
    (tmp_path / "gone.html").write_text("an old page", encoding="utf-8")
    build(SOURCE, tmp_path)
    assert not (tmp_path / "gone.html").exists() and (tmp_path / "index.html").exists()
