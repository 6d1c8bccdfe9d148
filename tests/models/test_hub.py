"""The hub client against a stand-in hub on 127.0.0.1: names, search, listing, remote headers."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from tests.hubserver import BROKEN_REPO, COMMIT, STARTER_FILE, STARTER_REPO, FakeHub
from tui.models import hub
from tui.models.gguf_info import GGUFError, GGUFTruncated, read_gguf_info, read_gguf_info_from_bytes


@pytest.mark.parametrize(
    ("name", "repo", "quant"),
    [
        ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF", "bartowski/Llama-3.2-1B-Instruct-GGUF", None),
        ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:q4_k_m", "bartowski/Llama-3.2-1B-Instruct-GGUF", "q4_k_m"),
        ("huggingface.co/org/repo:IQ3_M", "org/repo", "IQ3_M"),
        ("HF.CO/org/repo:latest", "org/repo", None),
        ("https://huggingface.co/org/repo", "org/repo", None),
    ],
)
def test_parse_hf_name(name: str, repo: str, quant: str | None) -> None:
    assert hub.parse_hf_name(name) == hub.HubName(repo, quant)


@pytest.mark.parametrize("name", ["smollm2:135m", "hf.co/onlyorg", "hf.co/a/b/c", "hf.co/a b/c"])
def test_parse_hf_name_rejects_other_names(name: str) -> None:
    with pytest.raises(hub.HubError, match="hf.co/ORG/REPO"):
        hub.parse_hf_name(name)


@pytest.mark.parametrize(
    ("filename", "quant"),
    [
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
        ("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf", "Q4_K_M"),
        ("Meta-Llama-3.1-8B-Instruct-IQ2_XXS.gguf", "IQ2_XXS"),
        ("sub/dir/model-UD-Q4_K_XL.gguf", "Q4_K_XL"),
        ("ggml-model-f16.gguf", "F16"),
        ("model-bf16.gguf", "BF16"),
        ("phi-3B.gguf", None),
    ],
)
def test_quant_from_file_name(filename: str, quant: str | None) -> None:
    assert hub.quant_of(filename) == quant


def test_search_lists_gguf_repos_most_downloaded_first(fake_hub: FakeHub) -> None:
    found = hub.search_repos("whirr-test")
    assert [r.repo_id for r in found] == [STARTER_REPO, "whirr-test/Tiny-Llama-GGUF", BROKEN_REPO]
    assert found[0].downloads == 5200 and found[0].likes == 42
    assert found[0].last_modified is not None and found[0].last_modified.year == 2025
    assert [r.repo_id for r in hub.search_repos("smollm")] == [STARTER_REPO]
    assert hub.search_repos("nothing-like-this") == []
    assert ("/api/models", "") in fake_hub.requests


def test_listing_reads_sizes_checksums_and_quants(fake_hub: FakeHub, starter_path: Path) -> None:
    (model,) = hub.list_repo_models(STARTER_REPO)
    assert model.quant == "Q4_1"
    assert model.name == "hf.co/whirr-test/smollm2-135m-instruct-gguf:q4_1"
    assert model.revision == COMMIT
    assert model.size == starter_path.stat().st_size
    assert model.files[0].sha256 == hashlib.sha256(starter_path.read_bytes()).hexdigest()


def test_split_files_are_one_model_and_projectors_are_skipped(fake_hub: FakeHub) -> None:
    models = hub.list_repo_models("whirr-test/Tiny-Llama-GGUF")
    assert [(m.quant, len(m.files)) for m in models] == [("Q4_K_M", 2), ("Q8_0", 1)]
    split = models[0]
    assert split.size == 2004 + 1000
    assert split.filename == "tiny-llama-Q4_K_M-00001-of-00002.gguf"


def test_default_quant_is_q4_k_m_and_tags_ignore_case(fake_hub: FakeHub) -> None:
    assert hub.resolve_hf_name("hf.co/whirr-test/Tiny-Llama-GGUF").quant == "Q4_K_M"
    assert hub.resolve_hf_name("hf.co/whirr-test/Tiny-Llama-GGUF:q8_0").quant == "Q8_0"
    assert hub.resolve_hf_name(f"hf.co/{STARTER_REPO}").quant == "Q4_1"


def test_missing_quant_lists_the_available_ones(fake_hub: FakeHub) -> None:
    with pytest.raises(hub.QuantNotFound) as caught:
        hub.resolve_hf_name("hf.co/whirr-test/Tiny-Llama-GGUF:Q2_K")
    assert str(caught.value) == "whirr-test/Tiny-Llama-GGUF has no Q2_K GGUF file; available quantizations: Q4_K_M, Q8_0"


def test_default_without_q4_k_m_takes_a_preferred_quant() -> None:
    def model(quant: str, size: int) -> hub.HubModel:
        return hub.HubModel("o/r", "main", quant, (hub.HubFile(f"m-{quant}.gguf", size, None),))

    models = [model("Q2_K", 1), model("Q8_0", 3), model("Q5_K_M", 2)]
    assert hub.pick_model("o/r", models, None).quant == "Q5_K_M"
    assert hub.pick_model("o/r", [model("Q3_K_S", 2), model("Q2_K", 1)], None).quant == "Q3_K_S"


def test_unknown_repo_is_a_clear_error(fake_hub: FakeHub) -> None:
    with pytest.raises(hub.RepoNotFound, match="no repository 'whirr-test/nope'"):
        hub.resolve_hf_name("hf.co/whirr-test/nope")


def test_unreachable_hub_is_a_normal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(hub.HubUnreachable, match=f"cannot reach the hub at http://127.0.0.1:{port}"):
        hub.search_repos("llama")
    with pytest.raises(hub.HubUnreachable, match="local models still work"):
        hub.list_repo_models("org/repo")


def test_remote_header_matches_the_local_one(fake_hub: FakeHub, starter_path: Path) -> None:
    (model,) = hub.list_repo_models(STARTER_REPO)
    remote = hub.read_remote_info(model)
    assert remote == read_gguf_info(starter_path)
    ranges = fake_hub.downloads_of(STARTER_REPO, STARTER_FILE)
    assert ranges and all(r.startswith("bytes=") for r in ranges)
    assert int(ranges[-1].rsplit("-", 1)[1]) < model.size // 4  # only the header was read


def test_remote_header_when_the_server_ignores_range(fake_hub: FakeHub, starter_path: Path) -> None:
    fake_hub.ignore_range = True
    (model,) = hub.list_repo_models(STARTER_REPO)
    assert hub.read_remote_info(model) == read_gguf_info(starter_path)


def test_remote_header_of_a_non_gguf_file(fake_hub: FakeHub) -> None:
    model = hub.resolve_hf_name(f"hf.co/{BROKEN_REPO}:Q8_0")
    with pytest.raises(GGUFError, match="not a GGUF file"):
        hub.read_remote_info(model)


def test_header_from_bytes(starter_path: Path) -> None:
    data = starter_path.read_bytes()
    size = len(data)
    assert read_gguf_info_from_bytes(data[: 4 << 20], size) == read_gguf_info(starter_path)
    with pytest.raises(GGUFTruncated):
        read_gguf_info_from_bytes(data[:1000], size)
    with pytest.raises(GGUFError, match="wrong magic"):
        read_gguf_info_from_bytes(b"PK\x03\x04" + data[4:1000], size)
