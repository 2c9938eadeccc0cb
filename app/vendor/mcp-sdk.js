// Entry point bundled by esbuild into dist/vendor/mcp-sdk.js: the one MCP client implementation of the browser side
// (the official TypeScript SDK, v2 client: both protocol eras, 2025-11-25 with `initialize` and 2026-07-28 with
// `server/discover`, over Streamable HTTP or the older HTTP+SSE), so page and service-worker modules import it from
// our own origin.
//
// Our CSP forbids eval, and two things in the SDK could reach for it: Ajv, the JSON Schema validator it picks on
// Node (every client is given the code-generation-free @cfworker/json-schema validator explicitly, which is also
// what the SDK's browser build picks), and Zod's JIT-compiled parsers (switched off by the first import, before the
// SDK builds its schemas, so Zod does not even probe `new Function`).
import "./_zod-jitless.js";

export {
  auth,
  Client,
  IssuerMismatchError,
  ProtocolError,
  refreshAuthorization,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  specTypeSchemas,
  SSEClientTransport,
  SseError,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from "@modelcontextprotocol/client";
export { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/client/validators/cf-worker";
export { Validator as JsonSchemaValidator } from "@cfworker/json-schema";
