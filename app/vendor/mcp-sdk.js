// Entry point bundled by esbuild into dist/vendor/mcp-sdk.js: the one MCP client implementation of the browser side
// (the official TypeScript SDK), so page and service-worker modules import it from our own origin.
//
// Our CSP forbids eval, and two things in the SDK would reach for it: Ajv, its default JSON Schema validator (every
// client is given the code-generation-free @cfworker/json-schema validator instead), and Zod's JIT-compiled parsers
// (switched off by the first import, before the SDK builds its schemas, so Zod does not even probe `new Function`).
import "./_zod-jitless.js";

export { Client } from "@modelcontextprotocol/sdk/client/index.js";
export { auth, refreshAuthorization, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
export { SSEClientTransport, SseError } from "@modelcontextprotocol/sdk/client/sse.js";
export { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
export { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker-provider.js";
export { McpError, ResultSchema, ToolSchema } from "@modelcontextprotocol/sdk/types.js";
export { Validator as JsonSchemaValidator } from "@cfworker/json-schema";
