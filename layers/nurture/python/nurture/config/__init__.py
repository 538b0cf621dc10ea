"""What marketers edit: the YAML files under config/, validated on load."""

from pathlib import Path

from nurture.config.bundle import NurtureConfig
from nurture.config.models import ApiSettings, ConsentPolicy, CustomField, FormDefinition


def load_config(config_dir: Path, check_template_syntax: bool = False) -> NurtureConfig:
    """The YAML files validated (nurture.config.loader): PyYAML is imported only where YAML is read, never by a
    function that loads the compiled config (nurture.config.compiled)."""
    from nurture.config.loader import load_config as load

    return load(config_dir, check_template_syntax)


__all__ = ["ApiSettings", "ConsentPolicy", "CustomField", "FormDefinition", "NurtureConfig", "load_config"]
