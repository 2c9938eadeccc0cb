"""Tiny random-weight Hugging Face checkpoints with the real DeepSeek layouts, built offline for conversion tests.

Two families: DeepSeek-LLM/Coder (`LlamaForCausalLM`, no attention biases, untied head) and DeepSeek-R1-Distill-Qwen
(`Qwen2ForCausalLM`, q/k/v biases). Each gets the config.json, generation_config.json, tokenizer_config.json and
tokenizer.json files those repositories ship, scaled down; the tokenizer is a byte-level BPE trained here with PyPI
`tokenizers` on generated text, using the same pre-tokenizer split rules as the real one (llama.cpp's list for the
pre-tokenizer named in `pre_tokenizer`). Weights are float16 noise written with numpy + safetensors.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from safetensors.numpy import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

BOS = "<\uff5cbegin\u2581of\u2581sentence\uff5c>"
EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"

# llama.cpp's src/llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM (mirrors DeepSeek-LLM's tokenizer.json). The letter
# class is escaped: tools silently normalise look-alikes in it (U+212A KELVIN SIGN to K), which breaks its ranges.
DEEPSEEK_LLM_SPLITS = (
    "[\r\n]",
    (
        "\\s?[A-Za-z\xb5\xc0-\xd6\xd8-\xf6\xf8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373"
        "\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481"
        "\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf"
        "\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d"
        "\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-"
        "\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113"
        "\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149"
        "\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b"
        "\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a"
        "\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-"
        "\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943]+"
    ),
    "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
    "\\s+$",
    "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+",
    "\\p{N}+",
)
# Qwen2's tokenizer.json split rule (DeepSeek-R1-Distill-Qwen keeps Qwen2.5's tokenizer).
QWEN2_SPLIT = (
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
)

DEEPSEEK_CHAT_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ 'User: ' + message['content'] + '\n\n' }}{% elif message['role'] == 'assistant' %}"
    "{{ 'Assistant: ' + message['content'] + eos_token }}{% elif message['role'] == 'system' %}"
    "{{ message['content'] + '\n\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

_TEXT = (
    "the meeting notes say we ship the offline client on friday and the model runs in the browser "
    "whisper transcribes speech llama summarises text every tool is an mcp server local or remote "
    "queue calls when offline and replay them once the network returns with an idempotency key "
    "numbers like 12 345 6789 and punctuation, too: (yes) [no] {maybe}! code: def f(x): return x*2"
)
_WORDS = _TEXT.split()


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    architecture: str
    pre_tokenizer: str
    tokenizer: Tokenizer


def training_text(seed: int, lines: int = 400) -> list[str]:
    """Generated sentences over a fixed word list: enough for a few hundred merges."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 14))) for _ in range(lines)]


def train_tokenizer(splits: tuple[str, ...], *, nfc: bool, seed: int, vocab_size: int = 600) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    if nfc:
        tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(pattern), behavior="isolated") for pattern in splits]
        + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_text(seed), trainer=trainer)
    bos_id = tokenizer.token_to_id(BOS)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS}:0 $A:0", pair=f"{BOS}:0 $A:0 {BOS}:1 $B:1", special_tokens=[(BOS, bos_id)]
    )
    return tokenizer


def _weights(
    rng: np.random.Generator, config: dict[str, int], *, biases: bool
) -> dict[str, npt.NDArray[np.float16]]:
    hidden, inter, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    head_dim = hidden // heads

    def normal(*shape: int) -> npt.NDArray[np.float16]:
        values: npt.NDArray[np.float64] = rng.standard_normal(shape) / np.sqrt(shape[-1])
        return values.astype(np.float16)

    tensors = {"model.embed_tokens.weight": normal(vocab, hidden), "lm_head.weight": normal(vocab, hidden)}
    tensors["model.norm.weight"] = np.ones(hidden, dtype=np.float16)
    for layer in range(config["num_hidden_layers"]):
        prefix = f"model.layers.{layer}"
        tensors[f"{prefix}.input_layernorm.weight"] = np.ones(hidden, dtype=np.float16)
        tensors[f"{prefix}.post_attention_layernorm.weight"] = np.ones(hidden, dtype=np.float16)
        tensors[f"{prefix}.self_attn.q_proj.weight"] = normal(heads * head_dim, hidden)
        tensors[f"{prefix}.self_attn.k_proj.weight"] = normal(kv_heads * head_dim, hidden)
        tensors[f"{prefix}.self_attn.v_proj.weight"] = normal(kv_heads * head_dim, hidden)
        tensors[f"{prefix}.self_attn.o_proj.weight"] = normal(hidden, heads * head_dim)
        if biases:
            tensors[f"{prefix}.self_attn.q_proj.bias"] = normal(heads * head_dim)
            tensors[f"{prefix}.self_attn.k_proj.bias"] = normal(kv_heads * head_dim)
            tensors[f"{prefix}.self_attn.v_proj.bias"] = normal(kv_heads * head_dim)
        tensors[f"{prefix}.mlp.gate_proj.weight"] = normal(inter, hidden)
        tensors[f"{prefix}.mlp.up_proj.weight"] = normal(inter, hidden)
        tensors[f"{prefix}.mlp.down_proj.weight"] = normal(hidden, inter)
    return tensors


def _write(path: Path, name: str, document: object) -> None:
    (path / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _padded(size: int, multiple: int = 64) -> int:
    return -(-size // multiple) * multiple


def _tokenizer_files(path: Path, tokenizer: Tokenizer) -> None:
    tokenizer.save(str(path / "tokenizer.json"))
    _write(
        path,
        "tokenizer_config.json",
        {
            "add_bos_token": True,
            "add_eos_token": False,
            "bos_token": {"__type": "AddedToken", "content": BOS, "lstrip": False, "normalized": True,
                          "rstrip": False, "single_word": False},
            "eos_token": {"__type": "AddedToken", "content": EOS, "lstrip": False, "normalized": True,
                          "rstrip": False, "single_word": False},
            "clean_up_tokenization_spaces": False,
            "legacy": True,
            "model_max_length": 4096,
            "pad_token": None,
            "sp_model_kwargs": {},
            "unk_token": None,
            "tokenizer_class": "LlamaTokenizerFast",
            "chat_template": DEEPSEEK_CHAT_TEMPLATE,
        },
    )  # fmt: skip


def make_deepseek_llm(path: Path, seed: int = 0) -> Checkpoint:
    """A DeepSeek-LLM/Coder-layout checkpoint (llama architecture) at a tiny size."""
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(DEEPSEEK_LLM_SPLITS, nfc=False, seed=seed)
    config = {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "bos_token_id": tokenizer.token_to_id(BOS),
        "eos_token_id": tokenizer.token_to_id(EOS),
        "hidden_act": "silu",
        "hidden_size": 64,
        "initializer_range": 0.02,
        "intermediate_size": 172,
        "max_position_embeddings": 4096,
        "model_type": "llama",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 4,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "transformers_version": "4.33.1",
        "use_cache": True,
        "vocab_size": _padded(tokenizer.get_vocab_size()),
    }
    _write(path, "config.json", config)
    _write(
        path,
        "generation_config.json",
        {"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"], "do_sample": False},
    )
    _tokenizer_files(path, tokenizer)
    save_file(_weights(np.random.default_rng(seed), config, biases=False), str(path / "model.safetensors"),
              metadata={"format": "pt"})  # fmt: skip
    return Checkpoint(path, "llama", "deepseek-llm", tokenizer)


def make_deepseek_r1_distill_qwen(path: Path, seed: int = 0) -> Checkpoint:
    """A DeepSeek-R1-Distill-Qwen-layout checkpoint (qwen2 architecture) at a tiny size."""
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer((QWEN2_SPLIT,), nfc=True, seed=seed)
    config = {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": tokenizer.token_to_id(BOS),
        "eos_token_id": tokenizer.token_to_id(EOS),
        "hidden_act": "silu",
        "hidden_size": 64,
        "initializer_range": 0.02,
        "intermediate_size": 160,
        "max_position_embeddings": 4096,
        "max_window_layers": 2,
        "model_type": "qwen2",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000,
        "sliding_window": 4096,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "transformers_version": "4.44.0",
        "use_cache": True,
        "use_mrope": False,
        "use_sliding_window": False,
        "vocab_size": _padded(tokenizer.get_vocab_size()),
    }
    _write(path, "config.json", config)
    _write(
        path,
        "generation_config.json",
        {"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"], "do_sample": True,
         "temperature": 0.6, "top_p": 0.95},
    )  # fmt: skip
    _tokenizer_files(path, tokenizer)
    save_file(_weights(np.random.default_rng(seed), config, biases=True), str(path / "model.safetensors"),
              metadata={"format": "pt"})  # fmt: skip
    return Checkpoint(path, "qwen2", "deepseek-r1-qwen", tokenizer)
