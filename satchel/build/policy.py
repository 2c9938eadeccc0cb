"""Build step: ship the organisation's managed policy as `/policy.json` and tell the templates whether the site is
managed.

It runs before the templates are rendered, so `sw.js` and `index.html` can read `managed` (always defined: true
with a policy, false without). An unmanaged site has no `/policy.json` at all, so the browser can never mistake a
stale or foreign policy file for this build's.
"""

from __future__ import annotations

from satchel.build.context import BuildContext
from satchel.policy import POLICY_PATH


def write_policy(ctx: BuildContext) -> None:
    ctx.template_vars["managed"] = ctx.policy is not None
    if ctx.policy is not None:
        ctx.add(POLICY_PATH, ctx.policy.json_bytes())
