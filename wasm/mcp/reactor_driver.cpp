// The WASM driver: a WASI reactor for the browser worker. The host calls handle(ptr, len) with one JSON-RPC line
// written into memory it got from satchel_alloc; every message the server emits (progress notifications, then the
// response) is written to stdout (WASI fd 1) as one line each, which the host's WASI shim hands to the worker
// while the call runs. No threads, no blocking stdin, no SharedArrayBuffer. The server is made on the first call
// from the WASI arguments (e.g. `--model /models/x.gguf`, a path in a preopened directory).
#include <cstdio>
#include <cstdlib>
#include <wasi/api.h>

#include "driver.hpp"

namespace {

std::vector<std::string> wasi_arguments() {
    __wasi_size_t count = 0, size = 0;
    if (__wasi_args_sizes_get(&count, &size) != __WASI_ERRNO_SUCCESS || count == 0) return {};
    std::vector<char*> pointers(count);
    std::vector<char> buffer(size);
    if (__wasi_args_get(reinterpret_cast<uint8_t**>(pointers.data()), reinterpret_cast<uint8_t*>(buffer.data())) !=
        __WASI_ERRNO_SUCCESS)
        return {};
    return std::vector<std::string>(pointers.begin() + 1, pointers.end());  // drop the program name
}

void write_line(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

std::unique_ptr<mcp::Server> server;
std::string startup_error;

}  // namespace

extern "C" {

__attribute__((export_name("satchel_alloc"))) void* satchel_alloc(size_t size) { return std::malloc(size); }

__attribute__((export_name("satchel_free"))) void satchel_free(void* pointer) { std::free(pointer); }

// Serves one line; returns 0, or 1 when the server could not be made from its arguments (an error was written).
__attribute__((export_name("handle"))) int handle(const char* pointer, size_t length) {
    if (!server && startup_error.empty()) {
        try {
            server = make_server(wasi_arguments());
            server->sink = write_line;
        } catch (const std::exception& error) {
            startup_error = error.what();
        }
    }
    if (server && length > mcp::MAX_LINE_BYTES) {
        server->refuse_long_line();  // without copying it first
        return 0;
    }
    std::string line(pointer, length);
    if (!server) {
        mcp::json id = nullptr;
        mcp::json message = mcp::parse_bounded(line);
        if (message.is_object() && message.contains("id")) id = message["id"];
        else return 1;
        write_line(mcp::json{{"jsonrpc", "2.0"},
                             {"id", id},
                             {"error", {{"code", mcp::INTERNAL_ERROR}, {"message", "server arguments: " + startup_error}}}}
                       .dump());
        return 1;
    }
    server->handle_line(line);
    return 0;
}

}
