"""What marketers edit: the YAML files under config/, validated on load."""

from nurture.config.bundle import NurtureConfig
from nurture.config.loader import load_config
from nurture.config.models import ApiSettings, ConsentPolicy, CustomField, FormDefinition

__all__ = ["ApiSettings", "ConsentPolicy", "CustomField", "FormDefinition", "NurtureConfig", "load_config"]
