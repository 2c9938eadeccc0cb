// Strict base64 decoding for binary tool arguments (audio): a bad character is reported with its position.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcp {

// Decodes standard base64 (padding optional, ASCII whitespace ignored); throws ToolError on anything else.
std::vector<uint8_t> base64_decode(const std::string& text, const std::string& argument);

}  // namespace mcp
