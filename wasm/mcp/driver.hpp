// The one function each server source defines, so the native and WASM drivers can build any server from its
// command line (natively argv; in the worker the WASI arguments the host passes).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "server.hpp"

// Thrown for a bad command line; the native driver prints it with the usage and exits with status 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::unique_ptr<mcp::Server> make_server(const std::vector<std::string>& args);

// Reads "--flag value" (or "--flag=value") options.
std::string option_value(const std::vector<std::string>& args, const std::string& flag, const std::string& fallback);
// Throws a UsageError naming the first argument that is neither a known valued option nor a known switch.
void reject_unknown_options(const std::vector<std::string>& args, const std::vector<std::string>& with_value,
                            const std::vector<std::string>& switches = {});
