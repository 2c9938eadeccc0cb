"""Build step: render the app's jinja2 templates (`*.j2`), except the service worker, which comes last."""

from __future__ import annotations

import jinja2

from satchel import __version__
from satchel.build.context import TEMPLATE_SUFFIX, BuildContext, BuildError
from satchel.security import content_security_policy
from satchel.wasm.servers import SERVERS

SERVICE_WORKER_TEMPLATE = "sw.js" + TEMPLATE_SUFFIX


def template_environment(ctx: BuildContext) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ctx.app_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        keep_trailing_newline=True,
    )
    env.globals.update(
        version=__version__,
        csp_meta=content_security_policy(policy=ctx.policy, for_meta=True),
        # The registry name of each WASM server by key, from the one table (page/wasm-servers.js.j2).
        wasm_servers={server.key: server.name for server in SERVERS},
    )
    return env


def render_template(ctx: BuildContext, name: str, **extra: object) -> bytes:
    """Render one template; any jinja2 failure becomes a BuildError naming the file and line."""
    env = template_environment(ctx)
    try:
        text = env.get_template(name).render(**ctx.template_vars, **extra)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"template {exc.name or name}, line {exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise BuildError(f"template {name}: {exc}") from exc
    return text.encode()


def render_templates(ctx: BuildContext) -> None:
    # Pages and the service worker know the bundle release (None for a plain build): a kiosk's page pre-loads
    # the models its admin bundled, and its service worker refuses to go back to a lower release.
    ctx.template_vars["release"] = ctx.release
    for source in ctx.source_files():
        rel = ctx.relative(source)
        is_partial = source.name.startswith("_")  # included by other templates, not a page of its own
        if rel.endswith(TEMPLATE_SUFFIX) and rel != SERVICE_WORKER_TEMPLATE and not is_partial:
            ctx.add(rel.removesuffix(TEMPLATE_SUFFIX), render_template(ctx, rel))
