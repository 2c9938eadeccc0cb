// Dispatch of MCP requests for the C++ servers (see server.hpp for why this core exists).
#include "server.hpp"

#include <algorithm>
#include <exception>

#include "limits.hpp"
#include "schema.hpp"

namespace mcp {

namespace {

const std::vector<std::string> HANDSHAKE_VERSIONS = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"};
const std::vector<std::string> MODERN_VERSIONS = {"2026-07-28"};
const char* STRUCTURED_OUTPUT_SINCE = "2025-06-18";
const char* PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion";
const char* CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities";
const char* SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo";
// The tool set is fixed for the life of a build, so 2026 clients may cache lists for an hour.
const int LIST_TTL_MS = 3600000;

bool valid_id(const json& id) { return id.is_string() || id.is_number_integer(); }

// Ids 1 and "1" are different requests; their JSON spelling tells them apart.
std::string id_key(const json& id) { return id.dump(); }

json error_response(const json& id, int code, const std::string& message, const json& data = nullptr) {
    json error = {{"code", code}, {"message", message}};
    if (!data.is_null()) error["data"] = data;
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", error}};
}

json text_result(const std::string& text, bool is_error) {
    return {{"content", json::array({{{"type", "text"}, {"text", text}}})}, {"isError", is_error}};
}

struct Era {
    std::string version;
    bool modern;
    bool structured() const {
        if (modern) return true;
        auto at = std::find(HANDSHAKE_VERSIONS.begin(), HANDSHAKE_VERSIONS.end(), version);
        auto since = std::find(HANDSHAKE_VERSIONS.begin(), HANDSHAKE_VERSIONS.end(), STRUCTURED_OUTPUT_SINCE);
        return at >= since;
    }
};

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// The 2026 envelope's version when params._meta carries one; nullopt for a handshake-era request.
std::optional<std::string> envelope_version(const json& params) {
    if (!params.is_object() || !params.contains("_meta") || !params["_meta"].is_object()) return std::nullopt;
    const json& meta = params["_meta"];
    if (!meta.contains(PROTOCOL_VERSION_KEY)) return std::nullopt;
    if (!meta[PROTOCOL_VERSION_KEY].is_string())
        throw RpcError(INVALID_PARAMS, std::string("params._meta['") + PROTOCOL_VERSION_KEY + "'] must be a string");
    if (!meta.contains(CLIENT_CAPABILITIES_KEY))
        throw RpcError(INVALID_PARAMS,
                       std::string("params._meta is missing the required key(s): ") + CLIENT_CAPABILITIES_KEY);
    std::string version = meta[PROTOCOL_VERSION_KEY];
    if (std::find(MODERN_VERSIONS.begin(), MODERN_VERSIONS.end(), version) == MODERN_VERSIONS.end()) {
        json supported = json::array();
        for (const auto& v : HANDSHAKE_VERSIONS) supported.push_back(v);
        for (const auto& v : MODERN_VERSIONS) supported.push_back(v);
        throw RpcError(UNSUPPORTED_PROTOCOL_VERSION,
                       "Unsupported protocol version '" + clipped(version) + "'; this server speaks " +
                           joined(MODERN_VERSIONS) + " per request and " + joined(HANDSHAKE_VERSIONS) +
                           " through initialize",
                       {{"supported", supported}, {"requested", version}});
    }
    return version;
}

}  // namespace

void CallContext::progress(double progress, std::optional<double> total, const std::string& message) {
    if (token_.is_null()) return;
    json params = {{"progressToken", token_}, {"progress", progress}};
    if (total) params["total"] = *total;
    if (!message.empty()) params["message"] = message;
    notify_({{"jsonrpc", "2.0"}, {"method", "notifications/progress"}, {"params", params}});
}

Server::Server(std::string name, std::string version, std::string instructions)
    : info_({{"name", std::move(name)}, {"version", std::move(version)}}), instructions_(std::move(instructions)) {}

void Server::add_tool(Tool tool) { tools_.push_back(std::move(tool)); }

void Server::send(const json& message) {
    // Invalid UTF-8 from a model's output is replaced, never allowed to break the stream.
    if (sink) sink(message.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::optional<json> Server::cancelled_request_id(const std::string& line) {
    if (line.find("notifications/cancelled") == std::string::npos) return std::nullopt;
    json message = parse_bounded(line);
    // Members are compared as JSON values: value("method", "") would throw on a method that is not a string.
    if (!message.is_object() || !message.contains("method") || message["method"] != "notifications/cancelled" ||
        message.contains("id"))
        return std::nullopt;
    if (!message.contains("params") || !message["params"].is_object() || !message["params"].contains("requestId"))
        return std::nullopt;
    return message["params"]["requestId"];
}

bool Server::cancel(const json& request_id) {
    std::lock_guard<std::mutex> lock(in_flight_mutex_);
    auto found = in_flight_.find(id_key(request_id));
    if (found == in_flight_.end()) return false;
    found->second->store(true);
    return true;
}

void Server::cancel_before_start(const json& request_id) {
    std::lock_guard<std::mutex> lock(in_flight_mutex_);
    cancelled_before_start_.push_back(id_key(request_id));
}

void Server::forget_cancel_before_start(const json& request_id) {
    std::lock_guard<std::mutex> lock(in_flight_mutex_);
    auto& ids = cancelled_before_start_;
    ids.erase(std::remove(ids.begin(), ids.end(), id_key(request_id)), ids.end());
}

std::optional<json> Server::request_id_of(const std::string& line) {
    json message = parse_bounded(line);
    if (!message.is_object() || !message.contains("id") || !message.contains("method")) return std::nullopt;
    return message["id"];
}

void Server::handle_line(const std::string& line) {
    if (line.find_first_not_of(" \t\r\n") == std::string::npos) return;
    if (line.size() > MAX_LINE_BYTES) {
        refuse_long_line();
        return;
    }
    if (nested_deeper_than(line, MAX_JSON_DEPTH)) {
        // Worded as the Python tool server words it (satchel/tools/jsonrpc.py): one limit, one error.
        const std::string limit = std::to_string(MAX_JSON_DEPTH);
        send(error_response(nullptr, PARSE_ERROR,
                            "Parse error: arrays and objects nest more than " + limit + " levels deep; the limit is " +
                                limit,
                            {{"limit", MAX_JSON_DEPTH}}));
        return;
    }
    json message = json::parse(line, nullptr, false);
    if (message.is_discarded()) {
        send(error_response(nullptr, PARSE_ERROR, "Parse error: the line is not valid JSON"));
        return;
    }
    if (message.is_array()) {
        send(error_response(nullptr, INVALID_REQUEST, "Invalid request: batches are not supported"));
        return;
    }
    json id = message.is_object() && message.contains("id") ? message["id"] : json(nullptr);
    if (!message.is_object() || !message.contains("jsonrpc") || message["jsonrpc"] != "2.0") {
        send(error_response(valid_id(id) ? id : json(nullptr), INVALID_REQUEST,
                            "Invalid request: expected a JSON-RPC 2.0 object"));
        return;
    }
    if (!message.contains("method")) return;  // a response to us: this server sends no requests
    if (!message["method"].is_string()) {
        send(error_response(valid_id(id) ? id : json(nullptr), INVALID_REQUEST,
                            "Invalid request: method must be a string"));
        return;
    }
    if (message.contains("params") && !message["params"].is_object()) {
        send(error_response(valid_id(id) ? id : json(nullptr), INVALID_PARAMS,
                            "Invalid params: params must be an object"));
        return;
    }
    if (!message.contains("id")) {
        if (message["method"] == "notifications/cancelled" && message.contains("params") &&
            message["params"].contains("requestId"))
            cancel(message["params"]["requestId"]);
        return;  // other notifications (initialized, progress, roots) mean nothing to a tools-only server
    }
    if (!valid_id(id)) {
        send(error_response(nullptr, INVALID_REQUEST, "Invalid request: id must be a string or an integer"));
        return;
    }
    try {
        bool respond = true;
        json response = dispatch(message, id, respond);
        if (respond) send(response);
    } catch (const RpcError& error) {
        send(error_response(id, error.code, error.what(), error.data));
    } catch (const std::exception& error) {
        send(error_response(id, INTERNAL_ERROR, std::string("Internal error: ") + error.what()));
    }
}

void Server::refuse_long_line() {
    send(error_response(nullptr, INVALID_REQUEST,
                        "Invalid request: message longer than " + std::to_string(MAX_LINE_BYTES) + " bytes"));
}

json Server::dispatch(const json& request, const json& id, bool& respond) {
    const std::string method = request["method"];
    const json params = request.value("params", json::object());
    Era era{negotiated_version_.empty() ? HANDSHAKE_VERSIONS.back() : negotiated_version_, false};
    if (method != "initialize") {
        if (auto version = envelope_version(params)) era = {*version, true};
    }
    json result;
    if (method == "initialize") {
        result = initialize(params);
    } else if (method == "server/discover") {
        if (!era.modern)
            throw RpcError(INVALID_PARAMS,
                           "server/discover needs the 2026-07-28 envelope in params._meta "
                           "(io.modelcontextprotocol/protocolVersion and clientCapabilities)");
        result = discover();
    } else if (method == "ping") {
        result = json::object();
    } else if (method == "tools/list") {
        if (params.contains("cursor") && !params["cursor"].is_null())
            throw RpcError(INVALID_PARAMS, "Invalid params for tools/list: unknown cursor (the list has one page)");
        result = list_tools(era.structured());
        if (era.modern) {
            result["ttlMs"] = LIST_TTL_MS;
            result["cacheScope"] = "public";
        }
    } else if (method == "tools/call") {
        result = call_tool(params, id, era.structured(), respond);
    } else {
        throw RpcError(METHOD_NOT_FOUND, "Method not found: '" + clipped(method) + "'");
    }
    if (era.modern) {
        result["resultType"] = "complete";
        result["_meta"][SERVER_INFO_KEY] = info_;
    }
    return {{"jsonrpc", "2.0"}, {"id", id}, {"result", result}};
}

json Server::initialize(const json& params) {
    if (!params.contains("protocolVersion") || !params["protocolVersion"].is_string())
        throw RpcError(INVALID_PARAMS, "Invalid params for initialize: protocolVersion must be a string");
    std::string requested = params["protocolVersion"];
    bool known = std::find(HANDSHAKE_VERSIONS.begin(), HANDSHAKE_VERSIONS.end(), requested) != HANDSHAKE_VERSIONS.end();
    negotiated_version_ = known ? requested : HANDSHAKE_VERSIONS.back();
    json result = {{"protocolVersion", negotiated_version_},
                   {"capabilities", {{"tools", {{"listChanged", false}}}}},
                   {"serverInfo", info_}};
    if (!instructions_.empty()) result["instructions"] = instructions_;
    return result;
}

json Server::discover() const {
    json result = {{"supportedVersions", MODERN_VERSIONS}, {"capabilities", {{"tools", {{"listChanged", false}}}}}};
    if (!instructions_.empty()) result["instructions"] = instructions_;
    result["ttlMs"] = LIST_TTL_MS;
    result["cacheScope"] = "public";
    return result;
}

json Server::list_tools(bool structured) const {
    json tools = json::array();
    for (const auto& tool : tools_) {
        json entry = {{"name", tool.name}};
        if (structured && !tool.title.empty()) entry["title"] = tool.title;
        entry["description"] = tool.description;
        entry["inputSchema"] = tool.input_schema;
        if (structured && !tool.output_schema.is_null()) entry["outputSchema"] = tool.output_schema;
        if (!tool.annotations.is_null()) entry["annotations"] = tool.annotations;
        tools.push_back(entry);
    }
    return {{"tools", tools}};
}

json Server::call_tool(const json& params, const json& id, bool structured, bool& respond) {
    if (!params.contains("name") || !params["name"].is_string())
        throw RpcError(INVALID_PARAMS, "Invalid params for tools/call: name must be a string");
    const std::string name = params["name"];
    auto tool = std::find_if(tools_.begin(), tools_.end(), [&](const Tool& t) { return t.name == name; });
    if (tool == tools_.end()) {
        std::vector<std::string> names;
        for (const auto& t : tools_) names.push_back(t.name);
        throw RpcError(INVALID_PARAMS,
                       "Unknown tool: '" + clipped(name) + "' (this server offers: " + joined(names) + ")");
    }
    json arguments = params.contains("arguments") && !params["arguments"].is_null() ? params["arguments"]
                                                                                      : json::object();
    if (!arguments.is_object())
        throw RpcError(INVALID_PARAMS, "Invalid params for tools/call: arguments must be an object");
    json token = nullptr;
    if (params.contains("_meta") && params["_meta"].is_object() && params["_meta"].contains("progressToken")) {
        token = params["_meta"]["progressToken"];
        if (!valid_id(token))
            throw RpcError(INVALID_PARAMS, "Invalid params: _meta.progressToken must be a string or an integer");
    }

    auto problems = validation_errors(arguments, tool->input_schema);
    if (!problems.empty()) {
        std::string text = "Invalid arguments for " + name + ": ";
        for (size_t i = 0; i < problems.size(); ++i) text += (i ? "; " : "") + problems[i];
        return text_result(text, true);
    }

    auto flag = std::make_shared<std::atomic<bool>>(false);
    {
        std::lock_guard<std::mutex> lock(in_flight_mutex_);
        auto& early = cancelled_before_start_;
        auto found = std::find(early.begin(), early.end(), id_key(id));
        if (found != early.end()) {
            early.erase(found);
            respond = false;  // cancelled while it waited to start
            return json::object();
        }
        if (!in_flight_.emplace(id_key(id), flag).second)
            throw RpcError(INVALID_REQUEST, "Invalid request: id " + quoted(id) + " is already in use");
    }
    CallContext context([this](const json& message) { send(message); }, token, flag);
    json result;
    try {
        json outcome = tool->run(arguments, context);
        std::string text = outcome.contains("text") && outcome["text"].is_string()
                               ? outcome["text"].get<std::string>()
                               : outcome.dump(-1, ' ', false, json::error_handler_t::replace);
        result = text_result(text, false);
        if (structured) result["structuredContent"] = outcome;
    } catch (const Cancelled&) {
        respond = false;  // the client gave up on this request: it gets no response
    } catch (const ToolError& error) {
        result = text_result(error.what(), true);
    } catch (const std::exception& error) {
        // A tool bug must become an isError result, never a dead server.
        result = text_result(name + " failed unexpectedly: " + error.what(), true);
    }
    if (flag->load()) respond = false;
    {
        std::lock_guard<std::mutex> lock(in_flight_mutex_);
        in_flight_.erase(id_key(id));
    }
    return result;
}

}  // namespace mcp
