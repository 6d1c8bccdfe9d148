"""Options under their OpenAI names, the extras vLLM and llama-server read, and what is not sent."""

from __future__ import annotations

from tui.engine.options import Options
from tui.engine.remote.openai_api import request_options


def test_defaults_send_the_sampling_basics_only() -> None:
    arguments, extra, not_sent = request_options(Options())
    assert arguments == {"temperature": 0.8, "top_p": 0.9, "presence_penalty": 0.0, "frequency_penalty": 0.0}
    assert extra == {} and not_sent == ()


def test_each_option_goes_under_its_openai_name_or_as_an_extra_field() -> None:
    options = Options(temperature=0.2, top_p=0.5, seed=7, num_predict=64, stop=("END", "##"),
                      presence_penalty=0.1, frequency_penalty=0.3, top_k=20, min_p=0.05, repeat_penalty=1.1,
                      num_ctx=8192, num_gpu=0, typical_p=0.9)
    arguments, extra, not_sent = request_options(options)
    assert arguments == {"temperature": 0.2, "top_p": 0.5, "seed": 7, "max_tokens": 64, "stop": ["END", "##"],
                         "presence_penalty": 0.1, "frequency_penalty": 0.3}
    assert extra == {"top_k": 20, "min_p": 0.05, "repeat_penalty": 1.1}
    assert not_sent == ("num_ctx", "num_gpu", "typical_p")


def test_no_limit_and_a_random_seed_are_left_to_the_server() -> None:
    arguments, _, _ = request_options(Options(num_predict=-1, seed=-1))
    assert "max_tokens" not in arguments and "seed" not in arguments
