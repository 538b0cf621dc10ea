"""Email templates (config/templates/<name>.yaml): subject, HTML and text, in Japanese and English."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from nurture.config.records import record, setting

LANGUAGES = ("ja", "en")


@record
class TemplateParts:
    subject: str = setting(min_length=1, max_length=500)
    html: str = setting(min_length=1)
    text: str = setting(min_length=1)


@record
class EmailTemplate:
    """One email in both languages; a lead gets its own language, else the other one."""

    kind: str = setting(default="know_how",
                        description="know_how, case_study, seminar, product_news, whitepaper, reengagement")
    ja: TemplateParts | None = None
    en: TemplateParts | None = None

    def __post_init__(self) -> None:
        if self.ja is None and self.en is None:
            raise ValueError("a template needs at least one language (ja, en)")

    def texts(self) -> list[str]:
        """Every subject, HTML and text source, in both languages."""
        return [text for parts in (self.ja, self.en) if parts is not None
                for text in (parts.subject, parts.html, parts.text)]

    def with_subjects(self, subject: Callable[[str, str], str | None]) -> EmailTemplate:
        """This template with each language's subject replaced by `subject(language, current)` (None keeps it)."""

        def changed(language: str, parts: TemplateParts | None) -> TemplateParts | None:
            new = subject(language, parts.subject) if parts is not None else None
            return dataclasses.replace(parts, subject=new) if parts is not None and new is not None else parts

        return dataclasses.replace(self, ja=changed("ja", self.ja), en=changed("en", self.en))

    def parts(self, language: str) -> tuple[str, TemplateParts]:
        """The parts in `language`, or in the other language when it has none."""
        wanted = self.ja if language == "ja" else self.en
        if wanted is not None:
            return language, wanted
        other = "en" if language == "ja" else "ja"
        fallback = self.en if other == "en" else self.ja
        assert fallback is not None
        return other, fallback
