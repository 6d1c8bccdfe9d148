"""Typed user settings, stored as TOML in whirr's config folder.

Read with tomllib, checked with msgspec (types, `Literal` choices, list and table element
types; ranges by the one rule of tui.engine.options), written with tomli-w. msgspec rather than
pydantic because the config is read by every command, `whirr list` included: importing msgspec
and converting a config takes about 10 ms, pydantic about 110 ms with its models built (measured
for tests/test_one_rule.py); it is imported only when there is a config file.

Nothing the user wrote is dropped silently: an unknown key or a value of the wrong type is
skipped with a warning naming it (the other settings are kept); an unknown key stays in the
file when whirr saves the config. A file that is not TOML at all is moved aside to
`config.toml.bad-<time>` and the defaults are used, with a one-line warning.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args, get_type_hints

from tui.engine.keepalive import DEFAULT_KEEP_ALIVE, ENV_VAR as KEEP_ALIVE_ENV, KeepAliveError, parse_keep_alive
from tui.engine.options import Options, ParameterError, check_option, option_note
from tui.files import move_aside, write_atomically
from tui.validation import located
from tui.paths import Paths

STARTER_MODEL = "smollm2:135m"
MetersPanel = Literal["auto", "on", "off"]
"""auto: the meters panel shows when the terminal is at least 120 columns wide."""
METERS_PANEL_CHOICES: tuple[str, ...] = get_args(MetersPanel)


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
    meters_panel: MetersPanel = "auto"
    model_dirs: list[str] = field(default_factory=list)
    ollama_models: str = ""  # Ollama's store; empty: $OLLAMA_MODELS or ~/.ollama/models
    lmstudio_models: str = ""  # LM Studio's models; empty: $LMSTUDIO_MODELS or ~/.lmstudio/models
    hf_cache: str = ""  # the Hugging Face hub cache; empty: $HF_HUB_CACHE or $HF_HOME/hub
    keep_alive: str | float = DEFAULT_KEEP_ALIVE  # how long a model stays loaded after its last answer (Ollama's meaning)
    options: Options = field(default_factory=Options)
    energy: EnergySettings = field(default_factory=EnergySettings)
    keys: dict[str, str] = field(default_factory=dict)


TABLES: dict[str, type] = {"options": Options, "energy": EnergySettings}
"""The tables whose keys are known; [keys] takes any binding id (checked by the app)."""
OTHER_OWNERS = frozenset({"servers"})
"""Top-level keys another module reads and checks ([servers.NAME]: tui/servers.py): not
warned about here, and kept as they are when the config is saved."""

_PATH_PART = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]")


def config_from_dict(data: dict[str, Any]) -> tuple[Config, list[str]]:
    """Build a Config from parsed TOML; returns it and a warning for each key that was skipped
    (unknown, mistyped or out of range), naming the key and what it must be, and a "note: " for
    a value whirr rounds."""
    import msgspec  # only when there is a config file to check

    data = {key: (dict(value) if isinstance(value, dict) else value) for key, value in data.items()}
    problems = _drop_unknown(data)
    while True:
        try:
            config = msgspec.convert(data, Config, strict=True)
            break
        except msgspec.ValidationError as error:
            shown, message = located(str(error))
            if shown == "meters_panel":
                message += f" (one of {', '.join(METERS_PANEL_CHOICES)})"
            if "[...]" in shown:  # msgspec does not name the key of a bad table entry
                problems += _drop_bad_entries(data, shown.split("[", 1)[0])
                continue
            problems.append(f"{shown}: {message}; using the default")
            _remove(data, shown)
    for name in list(data.get("energy", {})):
        if isinstance(getattr(config.energy, name), float) and getattr(config.energy, name) < 0:
            problems.append(f"energy.{name}: must be >= 0, got {getattr(config.energy, name)}; using the default")
            setattr(config.energy, name, getattr(EnergySettings(), name))
    for name in list(data.get("options", {})):
        value = getattr(config.options, name)
        try:
            check_option(name, value)
        except ParameterError as error:
            problems.append(f"options.{name}: {error}; using the default")
            config.options = config.options.updated(**{name: getattr(Options(), name)})
            continue
        note = option_note(name, value)
        if note:
            problems.append(f"note: options.{name}: {note}")
    try:
        parse_keep_alive(config.keep_alive)
    except KeepAliveError as error:
        problems.append(f"keep_alive: {error}; using the default, {DEFAULT_KEEP_ALIVE}")
        config.keep_alive = DEFAULT_KEEP_ALIVE
    return config, problems


def keep_alive_seconds(config: Config, given: str | None = None) -> float:
    """The keep_alive in effect, in seconds (see tui.engine.keepalive): `given` (a --keepalive
    flag), else WHIRR_KEEP_ALIVE, else the config's keep_alive. KeepAliveError naming where a
    bad value came from."""
    for source, value in (("--keepalive", given), (KEEP_ALIVE_ENV, os.environ.get(KEEP_ALIVE_ENV) or None)):
        if value is not None:
            try:
                return parse_keep_alive(value)
            except KeepAliveError as error:
                raise KeepAliveError(
                    f"invalid {source} {value!r}: {error} (use a duration like 5m, 1h30m, 300ms, or seconds)"
                ) from None
    return parse_keep_alive(config.keep_alive)


def _drop_unknown(data: dict[str, Any]) -> list[str]:
    """Remove keys the config does not have (top level, [options], [energy]); a warning each,
    with the closest known key when there is one."""
    problems: list[str] = []
    known_tables = {"": (data, [f.name for f in fields(Config)])}
    for table, cls in TABLES.items():
        if isinstance(data.get(table), dict):
            known_tables[table] = (data[table], [f.name for f in fields(cls)])
    for table, (values, known) in known_tables.items():
        for key in [k for k in values if k not in known]:
            if not table and key in OTHER_OWNERS:
                del values[key]
                continue
            del values[key]
            where = f"[{table}] " if table else ""
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"{where}unknown setting '{key}'{hint} is ignored")
    return problems


def _drop_bad_entries(data: dict[str, Any], table: str) -> list[str]:
    """Check each entry of a free-form table ([keys], [servers]) alone; drop and name the bad ones."""
    import msgspec

    entry_type = get_args(get_type_hints(Config)[table])[1]
    problems = []
    for key, value in list(data[table].items()):
        try:
            msgspec.convert(value, entry_type, strict=True)
        except msgspec.ValidationError as error:
            _shown, message = located(str(error))
            problems.append(f"{table}.{key}: {message}; ignored")
            del data[table][key]
    return problems


def _remove(data: dict[str, Any], shown: str) -> None:
    """Skip the setting at `shown`: a key of a table ([options], [keys]...), else the whole
    top-level setting (a list with one bad item goes whole)."""
    parts = [name for name, _index in _PATH_PART.findall("." + shown) if name]
    if len(parts) > 1 and isinstance(data.get(parts[0]), dict):
        del data[parts[0]][parts[1]]
    else:
        del data[parts[0]]


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
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        try:
            aside = move_aside(path)
        except OSError:
            return Config(), [f"warning: {path} is not valid TOML ({error}); using defaults"]
        return Config(), [f"warning: {path} is not valid TOML ({error}); moved to {aside.name}, using defaults"]
    config, problems = config_from_dict(data)
    return config, [
        f"note: {path.name}: {problem.removeprefix('note: ')}" if problem.startswith("note: ") else f"warning: {path.name}: {problem}"
        for problem in problems
    ]


def save_config(config: Config, paths: Paths) -> None:
    """Write the config file atomically. Keys this module does not know (a typo the user has
    been warned about, another module's [servers]) are carried over from the file as it is, so
    saving never loses them.
    OSError when the file cannot be written."""
    import tomli_w

    data = config_to_dict(config)
    for table, extra in _unknown_keys(paths).items():
        (data.setdefault(table, {}) if table else data).update(extra)
    write_atomically(paths.config_file, tomli_w.dumps(data))


def _unknown_keys(paths: Paths) -> dict[str, dict[str, Any]]:
    """The keys of the current config file that the Config does not have, by table ("" top)."""
    try:
        current = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    known = {f.name for f in fields(Config)}
    found: dict[str, dict[str, Any]] = {"": {k: v for k, v in current.items() if k not in known}}
    for table, cls in TABLES.items():
        names = {f.name for f in fields(cls)}
        if isinstance(current.get(table), dict):
            found[table] = {k: v for k, v in current[table].items() if k not in names}
    return {table: extra for table, extra in found.items() if extra}

