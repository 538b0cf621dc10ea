"""Email templates (config/templates/<name>.yaml): subject, HTML and text, in Japanese and English."""

from __future__ import annotations

from pydantic import Field, model_validator

from nurture.config.models import StrictModel

LANGUAGES = ("ja", "en")


class TemplateParts(StrictModel):
    subject: str = Field(min_length=1, max_length=500)
    html: str = Field(min_length=1)
    text: str = Field(min_length=1)


class EmailTemplate(StrictModel):
    """One email in both languages; a lead gets its own language, else the other one."""

    kind: str = Field(default="know_how",
                      description="know_how, case_study, seminar, product_news, whitepaper, reengagement")
    ja: TemplateParts | None = None
    en: TemplateParts | None = None

    @model_validator(mode="after")
    def _a_language(self) -> EmailTemplate:
        if self.ja is None and self.en is None:
            raise ValueError("a template needs at least one language (ja, en)")
        return self

    def texts(self) -> list[str]:
        """Every subject, HTML and text source, in both languages."""
        return [text for parts in (self.ja, self.en) if parts is not None
                for text in (parts.subject, parts.html, parts.text)]

    def parts(self, language: str) -> tuple[str, TemplateParts]:
        """The parts in `language`, or in the other language when it has none."""
        wanted = self.ja if language == "ja" else self.en
        if wanted is not None:
            return language, wanted
        other = "en" if language == "ja" else "ja"
        fallback = self.en if other == "en" else self.ja
        assert fallback is not None
        return other, fallback
