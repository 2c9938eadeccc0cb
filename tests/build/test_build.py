"""`satchel build`: the site, its precache manifest, no-op rebuilds and clear failures."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from satchel.build import BuildError, BuildResult, build_app
from satchel.build.output import MARKER
from tests.conftest import NODE_MODULES
from tests.support.served_app import precache_of


def build(app: Path, out: Path) -> BuildResult:
    return build_app(app, out, node_modules=NODE_MODULES)


def site_files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != MARKER}


def test_manifest_lists_every_file_but_the_service_worker_with_its_sha256(
    app_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    result = build(app_copy, out)
    build_hash, manifest = precache_of(out)
    assert build_hash == result.build_hash
    assert {str(e["url"]) for e in manifest} == {"/" + f for f in site_files(out) - {"sw.js"}}
    for entry in manifest:
        data = (out / str(entry["url"]).lstrip("/")).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)


def test_site_has_shell_manifest_icons_and_bundled_sdk(app_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build(app_copy, out)
    webmanifest = json.loads((out / "manifest.webmanifest").read_text())
    assert webmanifest["display"] == "standalone" and webmanifest["start_url"] == "/"
    for icon in webmanifest["icons"]:
        image = Image.open(out / icon["src"].lstrip("/"))
        assert f"{image.width}x{image.height}" == icon["sizes"] and image.format == "PNG"
    purposes = {(i["sizes"], i["purpose"]) for i in webmanifest["icons"]}
    assert purposes == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    }
    # A maskable icon fills its whole square (no transparent corners for the launcher to show).
    maskable = Image.open(out / "icons/maskable-512.png").convert("RGBA")
    corners = [maskable.getpixel(xy) for xy in ((0, 0), (511, 0), (0, 511), (511, 511))]
    assert all(isinstance(pixel, tuple) and pixel[3] == 255 for pixel in corners)
    index = (out / "index.html").read_text()
    assert 'http-equiv="Content-Security-Policy"' in index and "<script>" not in index
    sdk = (out / "vendor/mcp-sdk.js").read_text()
    exports = re.search(r"export\s*\{([^}]*)\}", sdk)
    assert exports and {"Client", "StreamableHTTPClientTransport"} <= set(re.findall(r"as (\w+)", exports[1]))
    assert not re.search(r"""\bfrom\s*["'](?![./])""", sdk), "the bundle still has a bare import"


def test_rebuild_without_change_writes_nothing_and_keeps_mtimes(app_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    first = build(app_copy, out)
    mtimes = {f: (out / f).stat().st_mtime_ns for f in site_files(out)}
    second = build(app_copy, out)
    assert second.written == () and second.removed == ()
    assert second.build_hash == first.build_hash
    assert {f: (out / f).stat().st_mtime_ns for f in site_files(out)} == mtimes


def test_changed_file_changes_exactly_its_entry_and_the_service_worker(
    app_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    first = build(app_copy, out)
    _, before = precache_of(out)
    styles = app_copy / "styles.css"
    styles.write_text(styles.read_text() + "\n.extra { color: red; }\n")
    second = build(app_copy, out)
    _, after = precache_of(out)
    assert set(second.written) == {"styles.css", "sw.js"}
    assert second.build_hash != first.build_hash
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert [a["url"] for a, _ in changed] == ["/styles.css"]


def test_removed_source_file_is_removed_from_the_site(app_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    (app_copy / "page" / "extra.js").write_text("export const extra = 1;\n")
    build(app_copy, out)
    assert (out / "page/extra.js").exists()
    (app_copy / "page" / "extra.js").unlink()
    result = build(app_copy, out)
    assert result.removed == ("page/extra.js",)
    assert not (out / "page/extra.js").exists()


def test_missing_app_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="app folder not found"):
        build(tmp_path / "nowhere", tmp_path / "dist")


def test_template_error_names_file_and_line_and_leaves_the_last_build(app_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build(app_copy, out)
    before = (out / "index.html").read_bytes()
    (app_copy / "index.html.j2").write_text("<!doctype html>\n<p>{{ broken </p>\n")
    with pytest.raises(BuildError, match=r"index\.html\.j2, line 2"):
        build(app_copy, out)
    assert (out / "index.html").read_bytes() == before


def test_undefined_template_variable_is_an_error(app_copy: Path, tmp_path: Path) -> None:
    (app_copy / "index.html.j2").write_text("<p>{{ no_such_value }}</p>\n")
    with pytest.raises(BuildError, match="no_such_value"):
        build(app_copy, tmp_path / "dist")


def test_missing_esbuild_is_a_clear_error(app_copy: Path, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"esbuild not found.*npm ci"):
        build_app(app_copy, tmp_path / "dist", node_modules=tmp_path / "no_node_modules")


def test_bundling_error_names_the_entry(app_copy: Path, tmp_path: Path) -> None:
    (app_copy / "vendor" / "broken.js").write_text('export { nothing } from "no-such-package";\n')
    with pytest.raises(BuildError, match=r"esbuild failed on vendor/broken\.js"):
        build(app_copy, tmp_path / "dist")


def test_broken_icon_source_is_a_clear_error(app_copy: Path, tmp_path: Path) -> None:
    (app_copy / "icons" / "icon.svg").write_text("<svg")
    with pytest.raises(BuildError, match=r"cannot render icons/icon\.svg"):
        build(app_copy, tmp_path / "dist")


def test_foreign_output_folder_is_never_emptied(app_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.txt").write_text("precious")
    with pytest.raises(BuildError, match="not made by `satchel build`"):
        build(app_copy, out)
    assert (out / "thesis.txt").read_text() == "precious"


def test_output_inside_app_folder_is_refused(app_copy: Path) -> None:
    with pytest.raises(BuildError, match="must not contain or be inside"):
        build(app_copy, app_copy / "dist")


def test_png_icons_are_reproducible(app_copy: Path, tmp_path: Path) -> None:
    build(app_copy, tmp_path / "a")
    build(app_copy, tmp_path / "b")
    for name in ("icons/icon-512.png", "icons/maskable-192.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    Image.open(io.BytesIO((tmp_path / "a/icons/icon-192.png").read_bytes())).verify()
