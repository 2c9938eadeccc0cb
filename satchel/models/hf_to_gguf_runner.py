"""Runs llama.cpp's `convert_hf_to_gguf.py` (from the sdist tree) with one addition: a named pre-tokenizer fallback.

The converter identifies a BPE tokenizer's pre-tokenizer by hashing how it encodes a fixed text, and refuses any
tokenizer it has not seen. Real DeepSeek checkpoints are recognised as they are; a checkpoint with a locally trained
tokenizer (our offline tests) is not, so `--pre-tokenizer NAME` says which llama.cpp pre-tokenizer it follows. The
fallback applies only when the converter's own check fails, and it says so in the log.

Usage: python -m satchel.models.hf_to_gguf_runner LLAMA_CPP_DIR [--pre-tokenizer NAME] -- CONVERTER ARGS...
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any


def _install_fallback(pre_tokenizer: str) -> None:
    from conversion.base import TextModel  # type: ignore[import-not-found]

    recognise = TextModel.get_vocab_base_pre

    def get_vocab_base_pre(self: Any, tokenizer: Any) -> str:
        try:
            return str(recognise(self, tokenizer))
        except NotImplementedError:
            logging.getLogger("satchel").warning(
                "pre-tokenizer not recognised by llama.cpp; using %r as asked by --pre-tokenizer",
                pre_tokenizer,
            )
            return pre_tokenizer

    TextModel.get_vocab_base_pre = get_vocab_base_pre


def main(argv: list[str]) -> None:
    if len(argv) < 2 or "--" not in argv:
        raise SystemExit(__doc__)
    split = argv.index("--")
    own, converter_args = argv[1:split], argv[split + 1 :]
    llama_cpp = Path(own[0])
    pre_tokenizer = own[own.index("--pre-tokenizer") + 1] if "--pre-tokenizer" in own else None
    sys.path.insert(0, str(llama_cpp / "gguf-py"))
    sys.path.insert(0, str(llama_cpp))
    import convert_hf_to_gguf  # type: ignore[import-not-found]

    if pre_tokenizer:
        _install_fallback(pre_tokenizer)
    sys.argv = [str(llama_cpp / "convert_hf_to_gguf.py"), *converter_args]
    convert_hf_to_gguf.main()


if __name__ == "__main__":
    main(sys.argv)
