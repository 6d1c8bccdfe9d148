"""Options follow Ollama's parameter rules; config.toml is typed, relocatable and never lost."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    "content",
    ["not = [toml", "options = 3", "meters_panel = 'sometimes'", "[options]\ntop_k = 'many'", "[options]\nbogus = 1", "mystery = 1", b"\xff\xfe"],
)
def test_bad_config_is_moved_aside_and_defaults_used(whirr_home: Path, content: str | bytes) -> None:
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


def test_two_bad_configs_in_one_second_are_both_kept(whirr_home: Path) -> None:
    paths = resolve_paths()
    paths.config_dir.mkdir(parents=True)
    for text in ("x = [", "y = ["):
        paths.config_file.write_text(text)
        load_config(paths)
    assert sorted(p.read_text() for p in paths.config_dir.glob("config.toml.bad-*")) == ["x = [", "y = ["]
