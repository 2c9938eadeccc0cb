"""Build step: copy the app's plain files (page modules, styles, service-worker modules, workers) as they are."""

from __future__ import annotations

from satchel.build.context import SOURCE_ONLY_DIRS, TEMPLATE_SUFFIX, BuildContext


def copy_static_files(ctx: BuildContext) -> None:
    for source in ctx.source_files():
        rel = ctx.relative(source)
        if rel.endswith(TEMPLATE_SUFFIX) or rel.split("/", 1)[0] in SOURCE_ONLY_DIRS:
            continue
        ctx.add(rel, source.read_bytes())
