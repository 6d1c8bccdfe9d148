"""Options follow Ollama's parameter rules; config.toml is typed, relocatable and never lost."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tui.config import Config, load_config, save_config
from tui.engine.options import Options, ParameterError, options_from_parameters, parse_parameter
from tui.paths import resolve_paths


def test_defaults_are_ollamas() -> None:
    options = Options()
    assert (options.temperature, options.top_k, options.top_p, options.num_ctx) == (0.8, 40, 0.9, 4096)
    assert (options.seed, options.num_predict, options.repeat_last_n) == (-1, -1, 64)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [("temperature", "0.7", 0.7), ("top_k", "20", 20), ("use_mmap", "false", False), ("use_mmap", "T", True), ("stop", "<|end|>", "<|end|>")],
)
def test_parameter_values_are_typed(name: str, raw: str, expected: object) -> None:
    assert parse_parameter(name, raw) == expected


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("nope", "1", "unknown parameter 'nope'"),
        ("top_k", "1.5", "invalid int value [1.5]"),
        ("temperature", "warm", "invalid float value [warm]"),
        ("use_mmap", "yes", "invalid bool value [yes]"),
    ],
)
def test_bad_parameters_get_ollamas_messages(name: str, raw: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_parameter(name, raw)


def test_options_from_parameters_and_back() -> None:
    options = options_from_parameters({"temperature": 0.0, "stop": ["a", "b"]})
    assert options.stop == ("a", "b")
    assert options.to_parameters() == {"temperature": 0.0, "stop": ("a", "b")}


def test_whirr_home_relocates_every_path(whirr_home: Path) -> None:
    paths = resolve_paths()
    for path in (paths.config_file, paths.database_file, paths.models_dir, paths.log_file, paths.themes_dir):
        assert whirr_home in path.parents


def test_config_round_trip(whirr_home: Path) -> None:
    paths = resolve_paths()
    config = Config(default_model="other:latest", model_dirs=["/models"], meters_panel="off")
    config.options = config.options.updated(temperature=0.2, stop=("###",))
    config.energy.co2_g_per_kwh = 300
    save_config(config, paths)
    assert load_config(paths) == (config, [])


@pytest.mark.parametrize("content", ["not = [toml", b"\xff\xfe"])
def test_config_that_is_not_toml_is_moved_aside_and_defaults_used(whirr_home: Path, content: str | bytes) -> None:
    paths = resolve_paths()
    paths.config_dir.mkdir(parents=True)
    raw = content.encode() if isinstance(content, str) else content
    paths.config_file.write_bytes(raw)
    config, warnings = load_config(paths)
    assert config == Config()
    assert len(warnings) == 1 and "moved to config.toml.bad-" in warnings[0]
    aside = list(paths.config_dir.glob("config.toml.bad-*"))
    assert [p.read_bytes() for p in aside] == [raw]
    assert not paths.config_file.exists()


@pytest.mark.parametrize(
    ("content", "warning"),
    [
        ("options = 3", "options: expected table, got int"),
        ("meters_panel = 'sometimes'", "meters_panel: invalid enum value 'sometimes' (one of auto, on, off)"),
        ("[options]\ntop_k = 'many'", "options.top_k: expected int, got str"),
        ("[options]\ntemperature = -1", "options.temperature: temperature must be >= 0, got -1"),
        ("[options]\ntop_p = 1.5", "options.top_p: top_p must be between 0 and 1, got 1.5"),
        ("[options]\nbogus = 1", "[options] unknown setting 'bogus' is ignored"),
        ("[options]\ntemprature = 0.1", "[options] unknown setting 'temprature' (did you mean 'temperature'?) is ignored"),
        ("meter_panel = 'on'", "unknown setting 'meter_panel' (did you mean 'meters_panel'?) is ignored"),
        ("model_dirs = ['/a', 3]", "model_dirs[1]: expected str, got int"),
        ("[energy]\nprice_per_kwh = -2", "energy.price_per_kwh: must be >= 0, got -2.0"),
        ("[keys]\n'session.new' = 5", "keys.session.new: expected str, got int"),
    ],
)
def test_a_bad_key_is_named_and_the_valid_keys_are_kept(whirr_home: Path, content: str, warning: str) -> None:
    paths = resolve_paths()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(f"default_model = 'kept:latest'\n{content}\n")
    config, warnings = load_config(paths)
    assert config.default_model == "kept:latest"
    assert len(warnings) == 1 and warning in warnings[0], warnings
    assert paths.config_file.exists() and not list(paths.config_dir.glob("config.toml.bad-*"))


def test_saving_keeps_a_mistyped_key_and_the_servers_table(whirr_home: Path) -> None:
    paths = resolve_paths()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text("teme = 'x'\n[options]\ntemprature = 0.1\n[servers.box]\nurl = 'http://127.0.0.1:1'\n")
    config, warnings = load_config(paths)
    assert len(warnings) == 2 and not any("servers" in w for w in warnings)
    config.theme = "whirr-light"
    save_config(config, paths)
    again, warnings_again = load_config(paths)
    assert again.theme == "whirr-light" and warnings_again == warnings
    assert tomllib.loads(paths.config_file.read_text())["servers"] == {"box": {"url": "http://127.0.0.1:1"}}


def test_two_bad_configs_in_one_second_are_both_kept(whirr_home: Path) -> None:
    paths = resolve_paths()
    paths.config_dir.mkdir(parents=True)
    for text in ("x = [", "y = ["):
        paths.config_file.write_text(text)
        load_config(paths)
    assert sorted(p.read_text() for p in paths.config_dir.glob("config.toml.bad-*")) == ["x = [", "y = ["]
