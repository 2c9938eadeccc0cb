// See base64.hpp.
#include "base64.hpp"

#include "server.hpp"

namespace mcp {

std::vector<uint8_t> base64_decode(const std::string& text, const std::string& argument) {
    std::vector<uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    uint32_t buffer = 0;
    int bits = 0;
    size_t padding = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        int value;
        if (c >= 'A' && c <= 'Z') value = c - 'A';
        else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
        else if (c >= '0' && c <= '9') value = c - '0' + 52;
        else if (c == '+' || c == '-') value = 62;
        else if (c == '/' || c == '_') value = 63;
        else if (c == '=') { ++padding; continue; }
        else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        else
            throw ToolError("argument '" + argument + "' is not valid base64: unexpected character at offset " +
                            std::to_string(i));
        if (padding) throw ToolError("argument '" + argument + "' is not valid base64: data after '=' padding");
        buffer = (buffer << 6) | static_cast<uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<uint8_t>((buffer >> bits) & 0xFF));
        }
    }
    if (bits >= 6 || padding > 2)
        throw ToolError("argument '" + argument + "' is not valid base64: its length is not a multiple of 4");
    return out;
}

}  // namespace mcp
