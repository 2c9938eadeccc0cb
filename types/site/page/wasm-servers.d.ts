// `satchel build` renders page/wasm-servers.js from app/page/wasm-servers.js.j2 and the table of WASM servers in
// satchel/wasm/servers.py; `tsc` finds this stand-in instead (tsconfig.json `rootDirs`).

/** The registry name of each WASM MCP server, by key (`whisper`, `llama`). */
export const WASM_SERVERS: Readonly<Record<string, string>>;
