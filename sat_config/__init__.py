"""sat-config: checked stable-audio-tools model configs (schema → validation → upstream constructor).

Importing this package and validating configs never imports torch; only building a model does.
"""

from .api import (
    create_model_from_config,
    create_model_from_config_path,
    judging,
    problems_in,
    validate_config,
)
from .errors import ConfigError, ConfigWarning, FactoryUnavailableError, Problem, TrainingProblemsWarning
from .factories import register_model_factory, unregister_model_factory
from .loader import LoadError, load_config_file

__all__ = [
    "ConfigError",
    "ConfigWarning",
    "FactoryUnavailableError",
    "LoadError",
    "Problem",
    "TrainingProblemsWarning",
    "create_model_from_config",
    "create_model_from_config_path",
    "judging",
    "load_config_file",
    "problems_in",
    "register_model_factory",
    "unregister_model_factory",
    "validate_config",
]
