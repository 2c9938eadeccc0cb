"""Speech for tests and benchmarks: spoken test audio made on this machine (espeak-ng + sox), and the word error
rate every suite that checks a transcript reports."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

#: The sentence the whisper tests and benchmarks speak.
SPEECH = "The quick brown fox jumps over the lazy dog."

NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
NUMBER_WORDS = {word: str(value) for value, word in enumerate(NUMBERS)}


def normalised_words(text: str) -> list[str]:
    """Lower case, no punctuation, small numbers as digits (as whisper writes them)."""
    cleaned = "".join(c.lower() if c.isalnum() or c.isspace() or c == "'" else " " for c in text)
    return [NUMBER_WORDS.get(word, word) for word in cleaned.split()]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance over the reference length, after `normalised_words`."""
    ref, hyp = normalised_words(reference), normalised_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1] / max(len(ref), 1)


def spoken_wav(
    folder: Path,
    text: str = SPEECH,
    pad_seconds: float = 0.0,
    voice: Sequence[str] = (),
    length_seconds: float | None = None,
) -> Path:
    """`text` spoken as a 16 kHz mono 16-bit WAV in `folder` (espeak-ng with the `voice` options, e.g.
    `["-v", "en-us", "-s", "150"]`, resampled by sox), with `pad_seconds` of silence before and after it, or padded
    with silence and cut to exactly `length_seconds`."""
    for program in ("espeak-ng", "sox"):
        if shutil.which(program) is None:
            raise RuntimeError(f"{program} is missing: run scripts/setup.sh (Debian package {program})")
    raw, wav = folder / "speech-22k.wav", folder / "speech.wav"
    subprocess.run(["espeak-ng", *voice, "-w", str(raw), text], check=True, capture_output=True)
    padding = ["pad", str(pad_seconds), str(pad_seconds)] if pad_seconds else []
    if length_seconds is not None:
        padding += ["pad", "0", str(length_seconds), "trim", "0", str(length_seconds)]
    subprocess.run(
        ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav), *padding],
        check=True,
        capture_output=True,
    )
    return wav
