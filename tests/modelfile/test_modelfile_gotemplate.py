"""Go-template TEMPLATEs: the supported subset renders as Ollama renders it; the rest is refused.

Expected prompts are what Go's text/template, driven the way Ollama's template package
drives it, produces for the same template and conversation.
"""

from __future__ import annotations

import pytest

from tui.engine.base import ChatMessage
from tui.modelfile import GoTemplate, TemplateError, template_syntax


def render_prompt(template: str, system: str, messages: list[ChatMessage], prompt: str) -> str:
    return GoTemplate(template).render(system, messages, prompt)


# The TEMPLATE examples of Ollama's Modelfile documentation.
LLAMA3 = (
    "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}"
    "{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}"
    "<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
)
CHATML = (
    "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
)
# A template over .Messages, using $.System inside range and range's else.
ZEPHYR_LIKE = """{{- range .Messages }}
{{- if eq .Role "user" }}<|user|>
{{ .Content }}{{ if $.System }} [system: {{ $.System }}]{{ end }}
{{ else if eq .Role "assistant" }}<|assistant|>
{{ .Content }}</s>
{{ else }}<|{{ .Role }}|>
{{ .Content }}
{{ end }}
{{- else }}no messages{{ end -}}
<|assistant|>
"""


def test_per_exchange_template_with_history() -> None:
    """A template without .Messages runs once per exchange; the last stops at .Response."""
    prompt = render_prompt(
        LLAMA3, "You are Mario.", [ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello!")], "Who are you?"
    )
    assert prompt == (
        "<|start_header_id|>system<|end_header_id|>\n\nYou are Mario.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWho are you?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_response_is_appended_when_missing() -> None:
    template = GoTemplate(CHATML)
    assert template.render("Be brief.", [], "Why is the sky blue?") == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nWhy is the sky blue?<|im_end|>\n<|im_start|>assistant\n"
    )
    # Earlier exchanges get the appended {{ .Response }}, right after the template's text.
    few_shot = [ChatMessage("user", "Is Toronto in Canada?"), ChatMessage("assistant", "yes")]
    assert template.render("Answer yes or no.", few_shot, "Is Ontario in Canada?") == (
        "<|im_start|>system\nAnswer yes or no.<|im_end|>\n<|im_start|>user\nIs Toronto in Canada?<|im_end|>\n"
        "<|im_start|>assistant\nyes<|im_start|>user\nIs Ontario in Canada?<|im_end|>\n<|im_start|>assistant\n"
    )


def test_a_system_message_starts_a_new_exchange() -> None:
    history = [ChatMessage("user", "q1"), ChatMessage("assistant", "a1"), ChatMessage("system", "S2"), ChatMessage("user", "q2")]
    prompt = render_prompt("[{{ .System }}|{{ .Prompt }}]{{ .Response }}<END>", "S", history, "q3")
    assert prompt == "[S|q1]a1<END>[S2|q2\n\nq3]"


def test_messages_template_merges_turns_and_sees_the_top_level() -> None:
    history = [ChatMessage("user", "a"), ChatMessage("user", "b"), ChatMessage("assistant", "c")]
    assert GoTemplate(ZEPHYR_LIKE).uses_messages
    assert render_prompt(ZEPHYR_LIKE, "S", history, "d") == (
        "<|system|>\nS\n<|user|>\na\n\nb [system: S]\n<|assistant|>\nc</s>\n<|user|>\nd [system: S]\n<|assistant|>\n"
    )


def test_system_joins_every_system_message() -> None:
    template = "{{ .System }}|{{ range .Messages }}{{ .Role }}={{ .Content }};{{ end }}"
    history = [ChatMessage("system", "extra"), ChatMessage("user", "hi")]
    assert render_prompt(template, "base", history, "again") == ("base\n\nextra|system=base\n\nextra;user=hi\n\nagain;")


def test_range_else_runs_for_an_empty_list() -> None:
    assert render_prompt("{{ range .Tools }}tool{{ else }}no tools{{ end }}", "", [], "hi") == "no tools"


def test_trimming_and_comments() -> None:
    template = "a  {{- .Prompt -}}  b {{/* note */}} c\n{{- /* trimmed */ -}}\n d{{ .Response }}"
    assert render_prompt(template, "", [], "P") == "aPb  cd"


def test_conditions_and_functions() -> None:
    template = (
        "{{ if and .System (not .Response) }}1{{ end }}{{ if or .Response .Prompt }}2{{ end }}"
        '{{ if eq .Prompt "x" "y" }}3{{ else if ne .System "S" }}4{{ else }}5{{ end }}'
        '{{ if ne .System "S" }}6{{ else if eq .Prompt `y` }}7{{ end }}{{ if true }}{{ .Think }}{{ end }}|'
    )
    assert render_prompt(template, "S", [], "y") == "1237false|"


def test_the_last_exchange_stops_right_after_response() -> None:
    """Ollama also drops the arguments that follow .Response in the same call."""
    assert render_prompt('{{ .Prompt }}{{ or .Response "none" }}|{{ .System }}', "S", [], "y") == "y"
    history = [ChatMessage("user", "q"), ChatMessage("assistant", "a")]
    assert render_prompt('{{ .Prompt }}:{{ or .Response "none" }}|', "", history, "y") == "q:a|y:"


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("{{ len .Messages }}", "function 'len'"),
        ("{{ .Prompt | html }}", "pipeline '|'"),
        ("{{ range $i, $m := .Messages }}{{ end }}", "variable $i"),
        ('{{ $system := "" }}', "variable $system"),
        ("{{ with .System }}{{ . }}{{ end }}", "'with'"),
        ('{{ template "x" }}', "'template'"),
        ("{{ range .Messages }}{{ continue }}{{ end }}", "'continue'"),
        ("{{ .Function.Name }}", "nested field .Function.Name"),
        ("{{ .First }}", "field .First"),
        ("{{ if eq .Role 1 }}{{ end }}", "number 1"),
        ("{{ not eq .A .B }}", "'eq' as an argument"),
        ('{{ "a\\x41" }}', "escape sequence \\x"),
        ("{{ .System .Prompt }}", "only not, and, or, eq and ne take arguments"),
        ("{{ not }}", "wrong number of arguments for not"),
        ("{{ }}", "empty action"),
        ("{{ .Prompt", "unclosed action"),
        ("{{/* note", "unclosed comment"),
        ("{{/* note */ }}", "comment ends before closing delimiter"),
        ("{{ if .System }}", "missing {{ end }}"),
        ("text\n{{ end }}", "template line 2: unexpected {{ end }}"),
        ("{{ else }}", "unexpected {{ else }}"),
        ("{{ range .Messages }}{{ else if .System }}{{ end }}", "else if"),
        ("{{ if .System }}{{ else }}{{ else }}{{ end }}", "unexpected {{ else }}"),
        ("{{ (not .System }}", "unclosed parenthesis"),
        ("{{ (eq .System }}", "wrong number of arguments for eq: 1"),
    ],
)
def test_outside_the_subset_is_an_error_naming_the_construct(template: str, named: str) -> None:
    with pytest.raises(TemplateError) as caught:
        GoTemplate(template)
    assert named in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ range .Messages }}{{ .System }}{{ end }}", "can't evaluate field System"),
        ('{{ if eq .Think "yes" }}{{ end }}', "incompatible types"),
        ("{{ .Messages }}", "cannot print a list"),
        ("{{ range .Prompt }}{{ end }}", "range can't iterate"),
    ],
)
def test_evaluation_errors(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        render_prompt(template, "", [], "hi")


@pytest.mark.parametrize(
    ("text", "syntax"),
    [
        (LLAMA3, "go"),
        (CHATML, "go"),
        (ZEPHYR_LIKE, "go"),
        ("{{- /* comment first */ -}}{{ .Prompt }}", "go"),
        ("Just text, no actions.", "go"),
        (
            "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
            "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
            "jinja",
        ),
        ("{{ bos_token }}{{ messages[0]['content'] }}", "jinja"),
        ("{# a jinja comment #}hello", "jinja"),
    ],
)
def test_template_syntax(text: str, syntax: str) -> None:
    assert template_syntax(text) == syntax
