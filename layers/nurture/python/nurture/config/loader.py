"""Load config/*.yaml into typed models, reporting every problem with file, line and path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nurture.config.bots import BotRules
from nurture.config.bundle import NurtureConfig
from nurture.config.campaigns import CampaignsConfig, campaign_problems, campaign_subjects, window_problems
from nurture.config.events import EventsConfig, event_problems
from nurture.config.models import ApiSettings, FormsFile
from nurture.config.records import problem_text, validated
from nurture.config.sales import SalesConfig, sales_problems
from nurture.config.scoring import ScoringRules
from nurture.config.segments import SegmentsConfig, segment_problems
from nurture.config.sequences import SequencesConfig
from nurture.config.subscriptions import SubscriptionsConfig
from nurture.config.templates import EmailTemplate
from nurture.domain.errors import ConfigInvalid

if TYPE_CHECKING:
    import yaml

# file name -> (model, whether the file may be absent)
CONFIG_FILES: dict[str, tuple[type, bool]] = {
    "api.yaml": (ApiSettings, True),
    "forms.yaml": (FormsFile, False),
    "scoring.yaml": (ScoringRules, False),
    "sequences.yaml": (SequencesConfig, False),
    "bots.yaml": (BotRules, True),
    "segments.yaml": (SegmentsConfig, True),
    "campaigns.yaml": (CampaignsConfig, True),
    "subscriptions.yaml": (SubscriptionsConfig, True),
    "sales.yaml": (SalesConfig, True),
    "events.yaml": (EventsConfig, True),
}
TEMPLATES = "templates"


def read_config_files(config_dir: Path) -> dict[str, str]:
    """The bundle: every config file's text by its path relative to the folder. This is what
    `nurture config push` publishes as a version and what a function loads."""
    files = {name: (config_dir / name).read_text(encoding="utf-8")
             for name in CONFIG_FILES if (config_dir / name).is_file()}
    folder = config_dir / TEMPLATES
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        files[f"{TEMPLATES}/{path.name}"] = path.read_text(encoding="utf-8")
    return files


def load_config(config_dir: Path, check_template_syntax: bool = False) -> NurtureConfig:
    return load_config_files(read_config_files(config_dir), str(config_dir), check_template_syntax)


def load_config_files(files: Mapping[str, str], origin: str, check_template_syntax: bool = False) -> NurtureConfig:
    """Validate a bundle of config files; raise ConfigInvalid listing all problems at once, each located as
    `<origin>/<file>:<line>`.

    Template syntax is parsed by `nurture config check` (and at render time, which refuses a broken
    template whole): functions load the config on their first request and need not pay for Jinja.
    """
    problems: list[str] = []
    loaded: dict[str, object] = {}
    for file_name, (model, optional) in CONFIG_FILES.items():
        where = f"{origin}/{file_name}"
        if file_name not in files:
            if optional:
                loaded[file_name] = model()
            else:
                problems.append(f"{where}: missing file")
            continue
        result = _load_text(files[file_name], where, model)
        if isinstance(result, list):
            problems += result
        else:
            loaded[file_name] = result
    templates = _load_templates(files, origin, problems, check_template_syntax)
    sequences = loaded.get("sequences.yaml")
    if isinstance(sequences, SequencesConfig):
        problems += [f"{origin}/sequences.yaml: template '{name}' is not in {TEMPLATES}/"
                     for name in sorted(sequences.templates() - set(templates))]
    segments, forms = loaded.get("segments.yaml"), loaded.get("forms.yaml")
    campaigns, subscriptions = loaded.get("campaigns.yaml"), loaded.get("subscriptions.yaml")
    if isinstance(segments, SegmentsConfig) and isinstance(forms, FormsFile) and \
            isinstance(subscriptions, SubscriptionsConfig):
        scoring_rules = loaded.get("scoring.yaml")
        roles = list(scoring_rules.accounts.roles) if isinstance(scoring_rules, ScoringRules) else None
        problems += [f"{origin}/segments.yaml: {problem}"
                     for problem in segment_problems(segments, forms.forms, list(subscriptions.types), roles)]
    if isinstance(campaigns, CampaignsConfig) and isinstance(segments, SegmentsConfig) and \
            isinstance(subscriptions, SubscriptionsConfig):
        problems += [f"{origin}/campaigns.yaml: {problem}" for problem in
                     campaign_problems(campaigns, set(segments.segments), set(templates), subscriptions)]
    if isinstance(forms, FormsFile) and isinstance(subscriptions, SubscriptionsConfig):
        problems += [f"{origin}/forms.yaml: {problem}" for problem in subscriptions.form_problems(forms.forms)]
    if isinstance(sequences, SequencesConfig) and isinstance(subscriptions, SubscriptionsConfig):
        problems += [f"{origin}/sequences.yaml: {problem}" for problem in sequences.type_problems(subscriptions)]
    if isinstance(forms, FormsFile):
        problems += [f"{origin}/forms.yaml: {problem}" for problem in _link_email_problems(forms, templates)]
    events = loaded.get("events.yaml")
    if isinstance(events, EventsConfig) and isinstance(forms, FormsFile):
        problems += [f"{origin}/events.yaml: {problem}"
                     for problem in event_problems(events, forms.forms, set(templates), set(
                         campaigns.campaigns if isinstance(campaigns, CampaignsConfig) else ()))]
    sales, scoring = loaded.get("sales.yaml"), loaded.get("scoring.yaml")
    if isinstance(sales, SalesConfig) and isinstance(forms, FormsFile) and isinstance(scoring, ScoringRules):
        problems += [f"{origin}/sales.yaml: {problem}" for problem in sales_problems(
            sales, forms.forms, [rule.id for rule in scoring.fit],
            list(scoring.pattern_reasons))]
    if isinstance(campaigns, CampaignsConfig) and check_template_syntax:
        from nurture.domain.emails import compile_problems

        problems += [f"{origin}/campaigns.yaml: {where}: {problem}" for where, text in campaign_subjects(campaigns)
                     for problem in compile_problems("subject", text)]
    if isinstance(campaigns, CampaignsConfig) and isinstance(sequences, SequencesConfig):
        problems += [f"{origin}/campaigns.yaml: {problem}"
                     for problem in window_problems(campaigns, sequences.send_window)]
    if problems:
        raise ConfigInvalid(problems)
    api = loaded["api.yaml"]
    assert isinstance(api, ApiSettings) and isinstance(forms, FormsFile) and isinstance(scoring, ScoringRules)
    assert isinstance(sales, SalesConfig)
    assert isinstance(sequences, SequencesConfig)
    bots = loaded["bots.yaml"]
    assert isinstance(bots, BotRules) and isinstance(segments, SegmentsConfig)
    assert isinstance(campaigns, CampaignsConfig) and isinstance(subscriptions, SubscriptionsConfig)
    assert isinstance(events, EventsConfig)
    return NurtureConfig(api=api, forms=forms.forms, scoring=scoring, sequences=sequences, templates=templates,
                         bots=bots, segments=segments, campaigns=campaigns, subscriptions=subscriptions,
                         double_opt_in=forms.double_opt_in, downloads=forms.downloads,
                         sales=sales, events=events)


def _link_email_problems(forms: FormsFile, templates: Mapping[str, EmailTemplate]) -> list[str]:
    """The emails forms send of themselves must exist, and carry their link in every part a person reads, once any
    form asks: the double opt-in confirmation ({{ confirm_url }}), a download's material ({{ download_url }})."""
    wanted = []
    if any(form.double_opt_in for form in forms.forms.values()):
        wanted.append(("double_opt_in", forms.double_opt_in.template, "confirm_url"))
    if any(form.kind == "download" for form in forms.forms.values()):
        wanted.append(("downloads", forms.downloads.template, "download_url"))
    problems = []
    for setting, name, link in wanted:
        template = templates.get(name)
        if template is None:
            problems.append(f"{setting}.template: '{name}' is not in {TEMPLATES}/")
            continue
        problems += [f"{setting}.template: {TEMPLATES}/{name}.yaml {language}.{part} does not show {{{{ {link} }}}}"
                     for language in ("ja", "en") if (parts := getattr(template, language)) is not None
                     for part in ("html", "text") if link not in getattr(parts, part)]
    return problems


def _load_templates(files: Mapping[str, str], origin: str, problems: list[str],
                    check_syntax: bool) -> dict[str, EmailTemplate]:
    templates: dict[str, EmailTemplate] = {}
    for name in sorted(name for name in files if name.startswith(f"{TEMPLATES}/") and name.endswith(".yaml")):
        where = f"{origin}/{name}"
        result = _load_text(files[name], where, EmailTemplate)
        if isinstance(result, list):
            problems += result
            continue
        assert isinstance(result, EmailTemplate)
        if check_syntax:
            from nurture.domain.emails import footer_problems, syntax_problems

            problems += [f"{where}: {problem}" for problem in syntax_problems(result) + footer_problems(result)]
        templates[Path(name).stem] = result
    return templates


def _load_text(text: str, where: str, model: type) -> object:
    import yaml  # only where YAML is read: a function loading the compiled config reads the files' bytes only
    from pydantic import ValidationError

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        return [f"{where}{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]
    try:
        return validated(model, data if data is not None else {})
    except ValidationError as exc:
        return [_describe(where, node, error) for error in exc.errors()]


def _describe(where: str, root: yaml.Node | None, error: Any) -> str:
    location = [str(part) for part in error["loc"]]
    line = _line_of(root, location)
    return f"{where}:{line}: {'.'.join(location) or '(top level)'}: {problem_text(error)}"


def _line_of(node: yaml.Node | None, location: list[str]) -> int:
    """The line of the deepest YAML node along `location` (1-based)."""
    import yaml

    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in location:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if str(key.value) == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            child = node.value[int(part)]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line
