"""Static files beside the API: the demo site and the tracking snippet, as a site's web server serves them."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from nurture.local.gateway import Page

TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


class StaticSite:
    """Serves files from its folders, first match wins; a folder's URL serves its index.html. A name starting with
    "_" is a source the site is built from (web/demo/_layout.html, _pages/), never served."""

    def __init__(self, folders: list[Path]):
        self.folders = [folder.resolve() for folder in folders]

    def page(self, path: str) -> Page | None:
        relative = path.lstrip("/")
        if any(part.startswith("_") for part in relative.split("/")):
            return None
        for folder in self.folders:
            try:
                file = (folder / relative).resolve()
                if not file.is_relative_to(folder):  # /../ and symlinks out of the folder
                    return None
                if file.is_dir():
                    file = file / "index.html"
                found = file.is_file()
            except (OSError, ValueError):  # a name too long for the file system, a NUL byte
                return None
            if found:
                kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                if kind.startswith(TEXT_TYPES):
                    kind += "; charset=utf-8"
                return Page(200, kind, file.read_bytes())
        return None
