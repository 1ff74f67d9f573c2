"""Client-side chat templates, used to score options through /v1/completions."""

from __future__ import annotations

import pytest

from personas.files import BadInputError
from simulator.backends.chat_template import (
    CHATML_TEMPLATE,
    ChatTemplate,
    read_gguf_metadata,
    resolve_chat_template,
    template_from_gguf,
)
from simulator.backends.embedded import embedded_gguf_path

MESSAGES = [{"role": "user", "content": "Hello there"}]
SMOLLM_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def test_embedded_gguf_template_is_chatml_with_smollm_default_system_prompt():
    template = template_from_gguf(embedded_gguf_path())
    assert template is not None
    assert template.bos_token == "<|im_start|>" and template.eos_token == "<|im_end|>"
    assert template.render(MESSAGES) == (
        f"<|im_start|>system\n{SMOLLM_DEFAULT_SYSTEM}<|im_end|>\n"
        "<|im_start|>user\nHello there<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_embedded_gguf_template_keeps_a_given_system_prompt_and_can_omit_the_generation_prompt():
    template = template_from_gguf(embedded_gguf_path())
    messages = [
        {"role": "system", "content": "Be brief."},
        *MESSAGES,
        {"role": "assistant", "content": "Hi."},
    ]
    rendered = template.render(messages, add_generation_prompt=False)
    assert rendered == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello there<|im_end|>\n"
        "<|im_start|>assistant\nHi.<|im_end|>\n"
    )


def test_served_gguf_path_resolves_to_its_own_template():
    template = resolve_chat_template(str(embedded_gguf_path()))
    assert template is not None and template.source.startswith("gguf:")


def test_chatml_option_renders_plain_chatml():
    template = resolve_chat_template("any-model", chat_template="chatml")
    assert template == ChatTemplate(CHATML_TEMPLATE, "chatml")
    assert template.render(MESSAGES) == "<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\n"


def test_template_option_accepts_jinja_text_and_files(tmp_path):
    jinja = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}>"
    assert resolve_chat_template("m", chat_template=jinja).render(MESSAGES) == "[user] Hello there\n>"
    path = tmp_path / "template.jinja"
    path.write_text(jinja)
    assert resolve_chat_template("m", chat_template=str(path)).source == f"file:{path}"
    with pytest.raises(BadInputError, match="chat template"):
        resolve_chat_template("m", chat_template=str(tmp_path / "missing.jinja"))


def test_unknown_remote_model_has_no_local_template():
    assert resolve_chat_template("no-such-org/no-such-model-xyz") is None


def test_gguf_metadata_reader_reads_scalars_and_refuses_other_files(tmp_path):
    meta = read_gguf_metadata(embedded_gguf_path(), ["tokenizer.ggml.eos_token_id", "general.architecture"])
    assert meta["tokenizer.ggml.eos_token_id"] == 2
    assert meta["general.architecture"] == "llama"
    assert meta["tokenizer.ggml.tokens"][2] == "<|im_end|>"
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ValueError, match="not a GGUF file"):
        read_gguf_metadata(not_gguf, ["x"])


@pytest.mark.model
def test_gguf_template_matches_the_hugging_face_tokenizer_of_the_embedded_model():
    from transformers import AutoTokenizer

    from simulator.backends.embedded import embedded_model_dir

    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())
    messages = [
        {"role": "system", "content": "S"},
        *MESSAGES,
        {"role": "assistant", "content": "A"},
        *MESSAGES,
    ]
    template = template_from_gguf(embedded_gguf_path())
    for conversation in (MESSAGES, messages):
        expected = tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        assert template.render(conversation) == expected
