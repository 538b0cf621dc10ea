"""The demo site's pages, built by `make web`: each page of web/demo/_pages/ (its title and its <main>) in the one
layout, web/demo/_layout.html, written as plain HTML beside the minified snippet, so a layout change is made once
and a site owner still copies a page as it is served. Folders and files whose names start with "_" are sources:
the local runtime serves none of them (nurture.local.site)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PAGES = "_pages"


def build(source: Path, output: Path) -> list[Path]:
    """Every page of `source`/_pages in `source`/_layout.html, into `output` by the same relative path (what was
    there before goes: a page removed from the sources is no longer served); the pages under en/ in English, the
    others in Japanese. The pages written."""
    if output.resolve() == source.resolve() or output.resolve() in source.resolve().parents:
        raise ValueError(f"the built pages go beside the sources, not over them: {output}")
    shutil.rmtree(output, ignore_errors=True)
    environment = Environment(loader=FileSystemLoader(source), autoescape=True, trim_blocks=True,
                              keep_trailing_newline=True, undefined=StrictUndefined)
    written = []
    for page in sorted((source / PAGES).rglob("*.html")):
        relative = page.relative_to(source / PAGES)
        language = "en" if relative.parts[0] == "en" else "ja"
        html = environment.get_template(f"{PAGES}/{relative.as_posix()}").render(lang=language)
        target = output / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    built = build(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{len(built)} demo pages in {sys.argv[2]}")
