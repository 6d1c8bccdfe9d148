"""Typed user settings, stored as TOML in whirr's config folder.

Read with tomllib, written with tomli-w. A config file that cannot be read is moved aside to
`config.toml.bad-<time>` and the defaults are used, with a one-line warning; nothing is lost.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from tui.engine.options import OPTION_FIELDS, Options, option_type
from tui.files import move_aside, write_atomically
from tui.paths import Paths

STARTER_MODEL = "smollm2:135m"
METERS_PANEL_CHOICES = ("auto", "on", "off")
"""auto: the meters panel shows when the terminal is at least 120 columns wide."""


@dataclass
class EnergySettings:
    """Factors that turn energy into CO2 and money."""

    co2_g_per_kwh: float = 475.0
    price_per_kwh: float = 0.30
    currency: str = "EUR"
    cpu_tdp_watts: float = 0.0  # 0: estimate 4 W per thread


@dataclass
class Config:
    """Everything a user can set in config.toml."""

    default_model: str = STARTER_MODEL
    system: str = ""
    theme: str = "whirr-dark"
    meters_panel: str = "auto"
    model_dirs: list[str] = field(default_factory=list)
    ollama_models: str = ""  # Ollama's store; empty: $OLLAMA_MODELS or ~/.ollama/models
    lmstudio_models: str = ""  # LM Studio's models; empty: $LMSTUDIO_MODELS or ~/.lmstudio/models
    hf_cache: str = ""  # the Hugging Face hub cache; empty: $HF_HUB_CACHE or $HF_HOME/hub
    options: Options = field(default_factory=Options)
    energy: EnergySettings = field(default_factory=EnergySettings)
    keys: dict[str, str] = field(default_factory=dict)


class ConfigError(ValueError):
    """A config file whose content is not valid."""


def _table(data: dict[str, Any], section: str) -> dict[str, Any]:
    table = data.pop(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table")
    return table


def _options_from_table(table: dict[str, Any]) -> Options:
    changes: dict[str, Any] = {}
    for name, value in table.items():
        if name not in OPTION_FIELDS:
            raise ConfigError(f"unknown option '{name}' in [options]")
        kind = option_type(name)
        if kind is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError("option 'stop' must be a list of strings")
            value = tuple(value)
        elif kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"option '{name}' must be {kind.__name__}, got {value!r}")
        changes[name] = value
    return Options().updated(**changes)


def _dataclass_from_table(cls: type, table: dict[str, Any], where: str) -> Any:
    defaults = cls()
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"unknown setting '{key}'{where}")
        default = getattr(defaults, key)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, type(default)) or isinstance(value, bool) != isinstance(default, bool):
            raise ConfigError(f"setting '{key}'{where} must be {type(default).__name__}, got {value!r}")
        values[key] = value
    return cls(**values)


def config_from_dict(data: dict[str, Any]) -> Config:
    """Build a Config from parsed TOML, raising ConfigError on anything unknown or mistyped."""
    data = dict(data)
    data.pop("servers", None)  # [servers.NAME] tables are read by tui/servers.py
    options = _options_from_table(_table(data, "options"))
    energy = _dataclass_from_table(EnergySettings, _table(data, "energy"), " in [energy]")
    config = _dataclass_from_table(Config, data, "")
    if config.meters_panel not in METERS_PANEL_CHOICES:
        raise ConfigError(f"setting 'meters_panel' must be one of {', '.join(METERS_PANEL_CHOICES)}")
    config.options = options
    config.energy = energy
    return config


def config_to_dict(config: Config) -> dict[str, Any]:
    """The TOML table for `config`; options list only what differs from Ollama's defaults."""
    data = asdict(config)
    data["options"] = {k: list(v) if k == "stop" else v for k, v in config.options.to_parameters().items()}
    return data


def load_config(paths: Paths) -> tuple[Config, list[str]]:
    """Read the config file; returns the config and warnings for the user (one line each)."""
    path = paths.config_file
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(), []
    except OSError as error:
        return Config(), [f"warning: cannot read {path} ({error.strerror}); using defaults"]
    try:
        return config_from_dict(tomllib.loads(raw.decode("utf-8"))), []
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, ConfigError) as error:
        aside = move_aside(path)
        return Config(), [f"warning: {path} is invalid ({error}); moved to {aside.name}, using defaults"]


def save_config(config: Config, paths: Paths) -> None:
    """Write the config file atomically."""
    import tomli_w

    data = config_to_dict(config)
    try:  # [servers.NAME] tables belong to tui/servers.py: kept as the file has them
        servers = tomllib.loads(paths.config_file.read_text(encoding="utf-8")).get("servers")
    except (OSError, ValueError):
        servers = None
    if servers is not None:
        data["servers"] = servers
    write_atomically(paths.config_file, tomli_w.dumps(data))
