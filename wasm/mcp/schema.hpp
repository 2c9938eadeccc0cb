// Validation of tool arguments against the subset of JSON Schema our tools declare (type, required, properties,
// additionalProperties: false, enum, minimum/maximum, items), so a bad call gets a message naming the argument.
#pragma once

#include <string>
#include <vector>

#include "server.hpp"

namespace mcp {

// Every problem found, as "argument 'x' must be ..." lines; empty when the value conforms.
std::vector<std::string> validation_errors(const json& value, const json& schema, const std::string& path = "");

}  // namespace mcp
