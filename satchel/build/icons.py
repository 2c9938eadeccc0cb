"""Build step: the app's PNG icons, every size and purpose rendered from the one SVG source.

Install prompts and home screens need PNGs (192 and 512 px); Android crops "maskable" icons to any shape, so
those get the artwork shrunk into the safe zone (the central 80 %) on a full-bleed background.
"""

from __future__ import annotations

import io

import cairosvg
from PIL import Image

from satchel.build.context import BuildContext, BuildError

ICON_SOURCE = "icons/icon.svg"
ICON_SIZES = (192, 512)
#: Fills the maskable icons' bleed area; the same colour as the artwork's own background.
ICON_BACKGROUND = "#17324d"
MASKABLE_SAFE_ZONE = 0.8


def _render_svg(svg: bytes, size: int) -> Image.Image:
    try:
        png = cairosvg.svg2png(bytestring=svg, output_width=size, output_height=size)
    except Exception as exc:  # cairosvg raises bare parser errors of several kinds
        raise BuildError(f"cannot render {ICON_SOURCE}: {exc}") from exc
    return Image.open(io.BytesIO(png)).convert("RGBA")


def _png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_icons(ctx: BuildContext) -> None:
    source = ctx.app_dir / ICON_SOURCE
    if not source.is_file():
        raise BuildError(f"icon source missing: {source}")
    svg = source.read_bytes()
    ctx.add(ICON_SOURCE, svg)
    manifest_icons: list[dict[str, str]] = []
    for size in ICON_SIZES:
        ctx.add(f"icons/icon-{size}.png", _png_bytes(_render_svg(svg, size)))
        manifest_icons.append(
            {
                "src": f"/icons/icon-{size}.png",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
        )
        inner = round(size * MASKABLE_SAFE_ZONE)
        canvas = Image.new("RGBA", (size, size), ICON_BACKGROUND)
        offset = (size - inner) // 2
        canvas.alpha_composite(_render_svg(svg, inner), (offset, offset))
        ctx.add(f"icons/maskable-{size}.png", _png_bytes(canvas))
        manifest_icons.append(
            {
                "src": f"/icons/maskable-{size}.png",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "maskable",
            }
        )
    ctx.template_vars["icons"] = manifest_icons
    ctx.template_vars["theme_color"] = ICON_BACKGROUND
