"""Rendering chat messages into the exact prompt string a model was trained on.

Servers render chat templates themselves on /v1/chat/completions, but scoring answer options needs
/v1/completions on `prompt + option` (the chat API cannot continue a given reply), so the client
must render the same template. Where it comes from, in order:

1. an explicit `chat_template`: "chatml", a Jinja template string, or a path to a template file;
2. an explicit `tokenizer` (Hugging Face id or directory): its `chat_template`;
3. the served model id itself: a local `.gguf` file (llama.cpp servers report the path; the template
   is read from its metadata, as llama_cpp.server does) or a local Hugging Face directory / cached id.

The embedded SmolLM2-135M-Instruct GGUF carries a ChatML template (`<|im_start|>role\\ncontent<|im_end|>\\n`)
that adds a default system prompt when the conversation has none.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from simulator.backends.base import ChatMessage

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@dataclass(frozen=True)
class ChatTemplate:
    template: str
    source: str  # where it came from, recorded in manifests ("chatml", "gguf:/path", "tokenizer:id")
    bos_token: str = ""
    eos_token: str = ""

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> str:
        return _compile(self.template).render(
            messages=[dict(message) for message in messages],
            add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_token,
            eos_token=self.eos_token,
        )


def _compile(template: str) -> Any:
    # Same environment as transformers' apply_chat_template, so templates behave identically.
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise ValueError(f"chat template error: {message}")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template)


def resolve_chat_template(
    model_id: str, chat_template: str | None = None, tokenizer: str | None = None
) -> ChatTemplate | None:
    """The template for `model_id`, or None when it cannot be found locally (see module doc)."""
    if chat_template:
        if chat_template.lower() == "chatml":
            return ChatTemplate(CHATML_TEMPLATE, "chatml")
        if "{{" in chat_template or "{%" in chat_template:
            return ChatTemplate(chat_template, "option")
        path = Path(chat_template).expanduser()
        if not path.is_file():
            from personas.files import BadInputError

            raise BadInputError(chat_template, "chat template: not 'chatml', a Jinja template or a file")
        return ChatTemplate(path.read_text(encoding="utf-8"), f"file:{path}")
    if tokenizer:
        return template_from_tokenizer(tokenizer, local_files_only=False)
    path = Path(model_id).expanduser()
    if path.suffix.lower() == ".gguf" and path.is_file():
        return template_from_gguf(path)
    if _has_local_tokenizer(model_id):
        return template_from_tokenizer(model_id, local_files_only=True)
    return None


def _has_local_tokenizer(name_or_path: str) -> bool:
    """A model directory or a Hugging Face id already in the local cache (checked without transformers)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return (path / "tokenizer_config.json").is_file()
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name_or_path, "tokenizer_config.json"), str)
    except (ImportError, ValueError):
        return False


def template_from_tokenizer(name_or_path: str, local_files_only: bool) -> ChatTemplate | None:
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(name_or_path, local_files_only=local_files_only)
    except (OSError, ValueError):
        return None  # not a local model: the caller falls back to the server's chat endpoint
    if not getattr(tok, "chat_template", None):
        return None
    return ChatTemplate(
        tok.chat_template, f"tokenizer:{name_or_path}", tok.bos_token or "", tok.eos_token or ""
    )


def template_from_gguf(path: str | Path) -> ChatTemplate | None:
    meta = read_gguf_metadata(
        path, ("tokenizer.chat_template", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id")
    )
    template = meta.get("tokenizer.chat_template")
    if not template:
        return None
    tokens = meta.get("tokenizer.ggml.tokens", [])

    def token(key: str) -> str:
        index = meta.get(key)
        return tokens[index] if isinstance(index, int) and 0 <= index < len(tokens) else ""

    return ChatTemplate(
        template, f"gguf:{path}", token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id")
    )


# GGUF metadata value types (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md).
_SCALAR_FORMATS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def read_gguf_metadata(path: str | Path, keys: Sequence[str]) -> dict[str, Any]:
    """The requested scalar/string keys of a GGUF header, plus the token list when bos/eos ids are asked.

    A small reader of our own: gguf.GGUFReader parses every field and tensor (seconds for a 100 MB
    file on a slow CPU); this reads only the key-value header.
    """
    wanted = set(keys)
    if any(key.endswith("_token_id") for key in keys):
        wanted.add("tokenizer.ggml.tokens")
    found: dict[str, Any] = {}
    with open(path, "rb") as file:
        if file.read(4) != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        (version,) = struct.unpack("<I", file.read(4))
        if version < 2:
            raise ValueError(f"{path}: GGUF version {version} is not supported")
        _tensor_count, kv_count = struct.unpack("<QQ", file.read(16))
        for _ in range(kv_count):
            key = _read_string(file)
            (value_type,) = struct.unpack("<I", file.read(4))
            value = _read_value(file, value_type, keep=key in wanted)
            if key in wanted:
                found[key] = value
    return found


def _read_string(file: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", file.read(8))
    return file.read(length).decode("utf-8", errors="replace")


def _read_value(file: BinaryIO, value_type: int, keep: bool) -> Any:
    if value_type == _STRING:
        if keep:
            return _read_string(file)
        (length,) = struct.unpack("<Q", file.read(8))
        file.seek(length, 1)
        return None
    if value_type == _ARRAY:
        element_type, count = struct.unpack("<IQ", file.read(12))
        if element_type in _SCALAR_FORMATS and not keep:
            file.seek(count * struct.calcsize("<" + _SCALAR_FORMATS[element_type]), 1)
            return None
        values = [_read_value(file, element_type, keep) for _ in range(count)]
        return values if keep else None
    fmt = "<" + _SCALAR_FORMATS[value_type]
    (value,) = struct.unpack(fmt, file.read(struct.calcsize(fmt)))
    return value
