// The protocol facts the browser side shares with Satchel's servers, written once for JavaScript: the MCP
// versions (the Python tools server's satchel/tools/protocol.py and the C++ servers' wasm/mcp/server.cpp hold the
// same lists, and tests/test_protocol_tables.py checks that all three agree) and the JSON-RPC error codes, standard
// and ours (satchel/tools/jsonrpc.py, wasm/mcp/server.hpp).

/** Versions of the `initialize` handshake era, oldest first (what the TypeScript SDK negotiates). */
export const HANDSHAKE_VERSIONS = Object.freeze(["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]);
/** Versions of the stateless era (`server/discover`, per-request `_meta`). */
export const MODERN_VERSIONS = Object.freeze(["2026-07-28"]);

/** `_meta` key of the version a 2026-07-28 request is made in (every request of that era carries it). */
export const PROTOCOL_VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion";

/** JSON-RPC error codes: the standard ones, MCP's, and ours (in the implementation-defined server range). */
export const RpcError = Object.freeze({
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
  // Ours sit in the implementation-defined server range, apart from -32000 and -32001, which servers overload.
  NEEDS_NETWORK: -32010,
  DENIED_BY_POLICY: -32011,
  NO_HOST_PAGE: -32012,
  SIGN_IN_NEEDED: -32013,
  RELAY_REFUSED: -32014,
});

/**
 * @typedef {{jsonrpc: "2.0", id: string | number | null, error: {code: number, message: string, data?: any}}}
 *   JsonRpcError
 */

/**
 * @param {string | number | null} id
 * @param {number} code
 * @param {string} message
 * @param {any} [data]
 * @returns {JsonRpcError}
 */
export const errorMessage = (id, code, message, data) => ({
  jsonrpc: "2.0",
  id,
  error: data === undefined ? { code, message } : { code, message, data },
});
