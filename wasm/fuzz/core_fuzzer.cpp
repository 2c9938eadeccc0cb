// libFuzzer harness (wasm/fuzz/run.sh): each input is one line handed to the MCP core, which serves a tool whose
// input schema uses every keyword schema.cpp knows. The core must never throw or crash, and every message it sends
// must be JSON. The drivers' own parsing of a line (cancellation, request id) runs on the same input.
#include <cstdint>
#include <cstdlib>
#include "server.hpp"

static mcp::Server* make() {
    auto* s = new mcp::Server("fuzz", "0", "i");
    mcp::json schema = {{"type", "object"},
        {"properties", {{"audio", {{"type", "string"}, {"minLength", 1}}},
                        {"encoding", {{"type", "string"}, {"enum", {"wav", "pcm_s16le"}}}},
                        {"n", {{"type", "integer"}, {"minimum", 0}, {"maximum", 10}}},
                        {"x", {{"type", "number"}}}, {"b", {{"type", "boolean"}}},
                        {"list", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}, {"maxItems", 3}}}}},
        {"required", {"audio"}}, {"additionalProperties", false}};
    s->add_tool({"t", "T", "d", schema, {{"type", "object"}}, nullptr,
                 [](const mcp::json& a, mcp::CallContext& c) { c.progress(1, 2, "p"); return mcp::json{{"text", a["audio"]}}; }});
    s->sink = [](const std::string& line) {
        if (line.size() > 2 * mcp::MAX_LINE_BYTES) std::abort();
        mcp::json m = mcp::json::parse(line, nullptr, false);
        if (m.is_discarded()) std::abort();
    };
    return s;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static mcp::Server* server = make();
    std::string line(reinterpret_cast<const char*>(data), size);
    server->handle_line(line);
    (void)mcp::Server::cancelled_request_id(line);
    (void)mcp::Server::request_id_of(line);
    return 0;
}
