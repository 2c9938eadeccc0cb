// The MCP core every Satchel C++ server shares: one JSON-RPC message per line in, messages out through a sink.
// It answers both protocol eras (the `initialize` handshake up to 2025-11-25, and 2026-07-28's `server/discover`
// with a per-request `_meta` envelope), lists and calls tools, sends progress notifications and honours
// cancellation. It does no I/O itself, so the native stdio driver and the WASM reactor drive the same object.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bounded_json.hpp"

namespace mcp {

// JSON-RPC error codes used by MCP.
constexpr int PARSE_ERROR = -32700;
constexpr int INVALID_REQUEST = -32600;
constexpr int METHOD_NOT_FOUND = -32601;
constexpr int INVALID_PARAMS = -32602;
constexpr int INTERNAL_ERROR = -32603;
constexpr int UNSUPPORTED_PROTOCOL_VERSION = -32022;

// A protocol-level failure: answered as a JSON-RPC error response.
struct RpcError : std::runtime_error {
    RpcError(int code, const std::string& message, json data = nullptr)
        : std::runtime_error(message), code(code), data(std::move(data)) {}
    int code;
    json data;
};

// A tool that ran but failed (bad audio, missing model): answered as a result with isError, as the spec says.
struct ToolError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Thrown by CallContext::check_cancelled() to unwind a tool whose request the client cancelled.
struct Cancelled {};

// What a running tool sees of its request: progress reporting and cancellation.
class CallContext {
public:
    CallContext(std::function<void(const json&)> notify, json progress_token, std::shared_ptr<std::atomic<bool>> flag)
        : notify_(std::move(notify)), token_(std::move(progress_token)), cancelled_(std::move(flag)) {}

    // Sends notifications/progress when the client asked for it (params._meta.progressToken); progress must grow.
    void progress(double progress, std::optional<double> total = std::nullopt, const std::string& message = "");
    bool cancelled() const { return cancelled_->load(); }
    void check_cancelled() const {
        if (cancelled()) throw Cancelled{};
    }

private:
    std::function<void(const json&)> notify_;
    json token_;
    std::shared_ptr<std::atomic<bool>> cancelled_;
};

struct Tool {
    std::string name;
    std::string title;
    std::string description;
    json input_schema;
    json output_schema;  // object schema of the structured result
    json annotations;
    // Returns the structured result (an object matching output_schema); `text` of it, if a string, becomes the
    // text content, otherwise the whole object serialised.
    std::function<json(const json& arguments, CallContext& context)> run;
};

class Server {
public:
    Server(std::string name, std::string version, std::string instructions);

    void add_tool(Tool tool);

    // Serves one line of the stream to completion, writing every message it produces (progress notifications,
    // then the response) to the sink. Never throws.
    void handle_line(const std::string& line);

    // Answers a line longer than MAX_LINE_BYTES with a JSON-RPC error naming the limit (handle_line does this
    // itself; a driver that skipped such a line without reading it whole calls it in the line's place).
    void refuse_long_line();

    // Marks a running request as cancelled; safe from another thread (the native stdin reader). The tool stops
    // at its next check and no response is sent. Returns false when no such request is running.
    bool cancel(const json& request_id);

    // For a driver that has taken a request off its queue but not yet handed it to handle_line: a cancellation
    // that arrives in between is remembered, and the request is dropped when it starts. Forget it afterwards.
    void cancel_before_start(const json& request_id);
    void forget_cancel_before_start(const json& request_id);

    // The request id named by a notifications/cancelled line (drivers apply it at once instead of queueing it).
    static std::optional<json> cancelled_request_id(const std::string& line);
    // The id of a request line, or nullopt for a notification or unparseable line.
    static std::optional<json> request_id_of(const std::string& line);

    std::function<void(const std::string&)> sink;

private:
    json dispatch(const json& request, const json& id, bool& respond);
    json initialize(const json& params);
    json discover() const;
    json list_tools(bool structured) const;
    json call_tool(const json& params, const json& id, bool structured, bool& respond);
    void send(const json& message);

    json info_;
    std::string instructions_;
    std::string negotiated_version_;
    std::vector<Tool> tools_;
    std::mutex in_flight_mutex_;
    std::map<std::string, std::shared_ptr<std::atomic<bool>>> in_flight_;
    std::vector<std::string> cancelled_before_start_;
};

}  // namespace mcp
