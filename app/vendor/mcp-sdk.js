// Entry point bundled by esbuild into dist/vendor/mcp-sdk.js: the one MCP client implementation of the browser side
// (the official TypeScript SDK), so page modules import it from our own origin with no bare specifiers.
export { Client } from "@modelcontextprotocol/sdk/client/index.js";
export { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
