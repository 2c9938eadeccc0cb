"""KIOSK.md: the admin's page in the bundle, written for this bundle's URL, policy and install folder."""

from __future__ import annotations

from urllib.parse import urlsplit

from satchel import __version__
from satchel.bundle.spec import (
    CADDYFILE,
    KIOSK_LAUNCHER,
    LINUX_POLICY_DIRS,
    LINUX_POLICY_NAME,
    MACOS_PROFILE,
    MODELS_INDEX,
    NGINX_CONF,
    SUMS_SIGNATURE,
    SYSTEMD_UNIT,
    WINDOWS_REG,
    BundleSpec,
)


def kiosk_doc(spec: BundleSpec) -> str:
    policy = spec.policy
    servers = (
        ", ".join(policy.allowed_servers) if policy.allowed_servers is not None else "every bundled server"
    )
    origins = (
        ", ".join(policy.allowed_origins) if policy.allowed_origins is not None else "any"
    ) or "none but the app's own"
    models = ", ".join(spec.models) or "none (the app fetches models when asked)"
    linux = "\n".join(
        f"  - {name}: `/{folder}/{LINUX_POLICY_NAME}`" for name, folder in LINUX_POLICY_DIRS.items()
    )
    root = spec.install_dir
    netloc = urlsplit(spec.url).netloc
    if spec.api_base is None:
        api = (
            "This bundle is a static site: the app works on the device with its local tools; there is no workspace "
            "to sync notes to (make a bundle with `--api-upstream` for one)."
        )
    else:
        port = urlsplit(spec.api_base).port
        api = f"""Both configs pass `/mcp/` and `/v0.1/` (the workspace and the registry API) to `satchel serve` at
{spec.api_base}, unbuffered (nginx resolves that host name when it starts). Run it next to the web server,
on loopback, accepting the app's own address:

      satchel serve --dist {root}/dist --host 127.0.0.1 --port {port} --allowed-host {netloc} \\
          --workspace-anonymous --db /var/lib/satchel/workspace.db

The proxy passes only those two paths, not the workspace's sign-in, so the workspace behind it is anonymous: its
notes belong to one built-in local user, and whoever reaches this web server can read and write them. Keep the web
server on the device (or on a network you trust with those notes).
"""
    relay = ""
    if spec.relay_routes:
        routes = ", ".join(f"`{route.path}` → {route.origin}" for route in spec.relay_routes)
        names = (
            f" nginx resolves their host names through {', '.join(spec.resolvers)} when a request comes."
            if spec.resolvers
            else ""
        )
        relay = f"""
Remote MCP servers that send no CORS headers are reached through the web server, for the app's pages only, at
`/relay/<scheme>/<host[:port]>/<path>`: {routes}. nginx checks https certificates against
`/etc/ssl/certs/ca-certificates.crt` (package `ca-certificates`).{names}
"""
    return f"""# Satchel for {policy.organization}: kiosk and fleet bundle

Made by `satchel bundle` {__version__} for **{spec.url}**, release **{spec.release}**. Everything a device
needs is here: the app (`dist/`), its models, the managed policy, web-server configs and browser policies. Nothing
is downloaded from outside.

## 1. Check and unpack

    satchel bundle verify satchel-bundle.tar.gz --key KEY.pub   # or the unpacked folder
    sudo tar -xzf satchel-bundle.tar.gz -C {root.parent}   # unpacks into {root}/

`SHA256SUMS` lists every file with its sha256 (`sha256sum -c SHA256SUMS` checks them), but it only shows that the
bundle arrived whole: whoever can change a file can rewrite `SHA256SUMS` too. A bundle made with
`satchel bundle --sign-key KEY` also carries `{SUMS_SIGNATURE}`, the Ed25519 signature of `SHA256SUMS` by the
maker's private key (made once with `satchel bundle keygen --out KEY`, kept off the devices). With the maker's public
key (`KEY.pub`, a PEM `-----BEGIN PUBLIC KEY-----` file, obtained from the maker, not from the bundle),
`verify --key` refuses a bundle that is unsigned, signed by another key, or changed after signing. Without Satchel,
OpenSSL 3 checks the signature in the unpacked folder, then `sha256sum` the files:

    openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in SHA256SUMS -sigfile {SUMS_SIGNATURE} &&
        sha256sum -c SHA256SUMS

The configs below expect the bundle at `{root}` (make another bundle with `--install-dir` to change it).

## 2. Serve it

- On the device itself (kiosks): nginx serves `{root}/dist` on `{spec.listen}`; `http://localhost` is a secure
  context, so no certificate is needed.

      sudo apt-get install nginx
      sudo cp {root}/{SYSTEMD_UNIT} /etc/systemd/system/ && sudo systemctl enable --now satchel

- For many devices from one intranet host: put `{NGINX_CONF}` (its `server` block) or `{CADDYFILE}` behind your
  TLS, or run `satchel serve --dist {root}/dist --certfile CERT --keyfile KEY`, which also serves the workspace.

{api}{relay}
Whatever serves it must send the headers in those configs (cross-origin isolation, CSP, MIME types for `.wasm`,
`.mjs` and `.webmanifest`, no caching of `/sw.js`); other servers are not supported.

## 3. Push the browser policies

They force-install {spec.url} as an app in its own window with a desktop shortcut, allow its origin
({spec.origin}) the microphone for dictation, and turn the browser's developer tools off
(`DeveloperToolsAvailability` 2): with them a kiosk user could run script in the app's origin and work around the
managed policy in the browser. It also closes the DevTools protocol that remote debugging and browser automation
use. To debug a device, remove the policy file from it for the time being.

- Linux: copy `browser/linux/etc` to `/` (`sudo cp -r browser/linux/etc /`), or only the file of your browser:
{linux}
- Windows: import `{WINDOWS_REG}` (`reg import`, or convert it for Group Policy/Intune).
- macOS: deploy `{MACOS_PROFILE}` with your MDM (its UUIDs stay the same for the same URL, so a new
  bundle replaces the profile).
- Single-app kiosk: run `{KIOSK_LAUNCHER}` from the kiosk user's session (Chromium in `--kiosk --app` mode).

Check on a device at `chrome://policy` (or `edge://policy`): every policy should show as OK.

## 4. The managed policy

`policy.json` (also served as `/policy.json`) is loaded before anything else and cannot be changed by users:

- organisation: {policy.organization}
- servers: {servers}; upstream registries: {"allowed" if policy.upstream_registries else "off"}
- remote servers' origins: {origins}; users may add servers: {"yes" if policy.user_servers_allowed else "no"}
- denied tools: {", ".join(policy.denied_tools) or "none"}
- always ask before: {", ".join(policy.always_ask_tools) or "nothing beyond the usual approvals"}
- remote sync: {"allowed" if policy.remote_allowed else "off (nothing leaves the device)"}; redact before sync:
  {"on" if policy.redact_before_sync else "off"}

A device whose `/policy.json` is missing or malformed refuses to start rather than run unmanaged.

## 5. Models

Pre-placed: {models}. Each comes with the on-device server that runs it and is listed, with its sha256, in
`{MODELS_INDEX.removeprefix("dist/")}`; the app verifies it before use.

## 6. Updates

Make a new bundle with a higher `--release` and serve it at the same URL (unpack it into a fresh folder and
switch, then `systemctl reload satchel`). Installed apps update through their normal service-worker update when the
user accepts the notice; queued calls, notes and cached models are kept. A device never goes back to a lower
release: serving an older bundle again changes nothing on devices that have a newer one (to undo an update, ship the
old app as a new, higher release).
"""
