"""The base model, its precision, and the LoRA wrapped around it (peft)."""

from __future__ import annotations

import hashlib
import json
import struct
import warnings
from pathlib import Path
from typing import Any

import torch

from personas.files import BadInputError
from simulator.backends.embedded import EMBEDDED_MODEL_NAME, embedded_model_dir
from simulator.backends.transformers_backend import cpu_supports_bf16
from trainer.config import TrainConfig

FULL_HASH_LIMIT_BYTES = 2 * 1024**3  # above this, fingerprint the weight files' headers instead


def base_model_path(config: TrainConfig) -> tuple[str, str]:
    """(what from_pretrained loads, the name the manifest records)."""
    if config.model is None:
        return str(embedded_model_dir()), EMBEDDED_MODEL_NAME
    return config.model, config.model


def training_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def choose_precision(precision: str, device: str) -> str:
    """'bf16' (bf16 autocast) or 'fp32'.

    On a CPU with AVX512-BF16/AMX, bf16 autocast over fp32 weights is the faster choice (measured
    by benchmarks/train_throughput.py); bf16 weights themselves are slower there, because the
    CPU backward kernels for bf16 are not the optimised ones.
    """
    if precision != "auto":
        return precision
    if device == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_supports_bf16() else "fp32"


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.chat_template is None:
        raise BadInputError("--model", f"'{path}' has no chat template; use an instruction-tuned model")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_lora_model(path: str, config: TrainConfig, precision: str, device: str) -> Any:
    """The frozen base model with fresh LoRA adapters on `config.target_modules`."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    # GPUs train on bf16 weights; CPUs keep fp32 weights and autocast (see choose_precision).
    dtype = torch.bfloat16 if (device == "cuda" and precision == "bf16") else torch.float32
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    linear_names = sorted(
        {
            name.rsplit(".", 1)[-1]
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear)
        }
    )
    missing = [name for name in config.target_modules if name not in linear_names]
    if missing:
        raise BadInputError(
            "--target-modules",
            f"{', '.join(missing)} not found in the model; its linear layers are: {', '.join(linear_names)}",
        )
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    if config.gradient_checkpointing:
        model.enable_input_require_grads()
    with warnings.catch_warnings():  # peft still reads the attribute transformers 5 renamed
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, lora)


def model_fingerprint(path: str, model: Any | None = None) -> dict[str, Any]:
    """How the manifest pins the base model: a hash of the weights of a local directory (of their
    headers above 2 GiB), or the hub revision of a downloaded one."""
    directory = Path(path)
    if not directory.is_dir():
        revision = getattr(getattr(model, "config", None), "_commit_hash", None)
        return {"hub_id": path, "revision": revision}
    files = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("*.bin"))
    total = sum(f.stat().st_size for f in files)
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            if total <= FULL_HASH_LIMIT_BYTES:
                for chunk in iter(lambda h=handle: h.read(1 << 22), b""):
                    digest.update(chunk)
            else:  # a safetensors header names every tensor with its dtype, shape and offsets
                (header_len,) = struct.unpack("<Q", handle.read(8))
                digest.update(handle.read(header_len))
                digest.update(str(file.stat().st_size).encode())
    kind = "sha256" if total <= FULL_HASH_LIMIT_BYTES else "header_sha256"
    config_file = directory / "config.json"
    architecture = json.loads(config_file.read_text()).get("architectures") if config_file.exists() else None
    return {"path": str(directory), kind: digest.hexdigest(), "bytes": total, "architectures": architecture}
