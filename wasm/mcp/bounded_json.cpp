// See bounded_json.hpp: parsing and quoting client JSON within the limits.
#include "bounded_json.hpp"

namespace mcp {

bool nested_deeper_than(const std::string& text, int limit) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

json parse_bounded(const std::string& text) {
    if (nested_deeper_than(text, MAX_JSON_DEPTH)) return json(json::value_t::discarded);
    return json::parse(text, nullptr, false);
}

std::string clipped(const std::string& text) {
    if (text.size() <= MAX_QUOTED_BYTES) return text;
    size_t end = MAX_QUOTED_BYTES;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // not inside a character
    return text.substr(0, end) + "…";
}

std::string quoted(const json& value) {
    std::string size = std::to_string(value.size());
    if (value.is_array()) return "an array of " + size + (value.size() == 1 ? " item" : " items");
    if (value.is_object()) return "an object of " + size + (value.size() == 1 ? " key" : " keys");
    if (value.is_string())  // only the clipped part is serialised, so a 50 MB string costs 100 bytes here
        return json(clipped(value.get_ref<const std::string&>())).dump(-1, ' ', false, json::error_handler_t::replace);
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace mcp
