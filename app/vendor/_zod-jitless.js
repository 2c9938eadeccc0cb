// Imported first by mcp-sdk.js: Zod reads this setting while the SDK's schemas are being constructed, so it must be
// in place before the SDK module runs. Our CSP forbids eval, and without it Zod probes `new Function` (a reported
// CSP violation even when caught) to JIT-compile its parsers.
globalThis.__zod_globalConfig = { ...globalThis.__zod_globalConfig, jitless: true };
