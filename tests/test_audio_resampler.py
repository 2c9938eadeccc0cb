"""The recorder's resampler (app/page/audio/resampler.js), run in node: microphone rates to whisper's 16 kHz with
the band kept, what lies above 8 kHz removed, and the same output however the input is split into batches."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.conftest import REPO

RESAMPLER = REPO / "app" / "page" / "audio" / "resampler.js"

#: Resamples one second of a sine at `rate` Hz to 16 kHz, in batches of `batch` samples, and reports the output's
#: length, RMS (edges left out), worst deviation from the ideal 16 kHz sine, and the first samples.
SCRIPT = """
const { Resampler, toPcm16 } = await import(process.argv[1]);
const [rate, frequency, batch] = JSON.parse(process.argv[2]);
const input = Float32Array.from({ length: rate }, (_, i) => 0.5 * Math.sin((2 * Math.PI * frequency * i) / rate));
const resampler = new Resampler(rate, 16000);
const parts = [];
for (let i = 0; i < input.length; i += batch) parts.push(resampler.push(input.subarray(i, i + batch)));
parts.push(resampler.flush());
const out = Float32Array.from(parts.flatMap((part) => [...part]));
const inner = out.slice(800, -800);
const rms = Math.sqrt(inner.reduce((sum, x) => sum + x * x, 0) / inner.length);
let error = 0;
for (let i = 800; i < out.length - 800; i += 1) {
  error = Math.max(error, Math.abs(out[i] - 0.5 * Math.sin((2 * Math.PI * frequency * i) / 16000)));
}
const pcm = toPcm16(Float32Array.from([-1.5, -1, -0.5, 0, 0.5, 32767 / 32768, 1.5]));
console.log(JSON.stringify({ length: out.length, rms, error, head: [...out.slice(0, 8)], pcm: [...pcm] }));
"""


def resample(rate: int, frequency: float, batch: int) -> dict[str, Any]:
    if shutil.which("node") is None:
        pytest.fail("node is missing: run scripts/setup.sh")
    completed = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            SCRIPT,
            RESAMPLER.as_uri(),
            json.dumps([rate, frequency, batch]),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    outcome: dict[str, Any] = json.loads(completed.stdout)
    return outcome


@pytest.mark.parametrize("rate", [44_100, 48_000, 22_050])
def test_speech_band_tone_keeps_its_shape_and_level(rate: int) -> None:
    outcome = resample(rate, 1000, 4410)
    assert outcome["length"] == 16_000
    assert outcome["rms"] == pytest.approx(0.5 / 2**0.5, rel=1e-3)
    assert outcome["error"] < 1e-3


def test_a_tone_above_8_khz_does_not_fold_back_into_the_band() -> None:
    assert resample(48_000, 12_000, 4800)["rms"] < 0.5 * 10 ** (-60 / 20)


def test_batches_of_any_size_give_the_same_output() -> None:
    whole = resample(44_100, 440, 44_100)
    assert resample(44_100, 440, 128)["head"] == whole["head"]
    assert resample(44_100, 440, 777)["rms"] == whole["rms"]


def test_16_khz_input_passes_unchanged_and_pcm_conversion_clips() -> None:
    outcome = resample(16_000, 1000, 1000)
    assert outcome["error"] < 1e-7
    assert outcome["pcm"] == [-32768, -32768, -16384, 0, 16384, 32767, 32767]
