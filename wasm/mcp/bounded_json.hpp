// Client JSON within the limits of limits.hpp: parsing a line only when its nesting is shallow enough, and quoting
// a client's value in an error message without walking it or copying all of it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "limits.hpp"

namespace mcp {

using json = nlohmann::ordered_json;

// Whether arrays and objects in `text` nest deeper than `limit` (brackets inside strings do not count). A linear
// scan with no recursion, run before parsing; exact for valid JSON, and for invalid JSON the parser fails anyway
// before it reaches any nesting the scan did not see.
bool nested_deeper_than(const std::string& text, int limit);

// `text` parsed, or a discarded value when it is not JSON or nests deeper than MAX_JSON_DEPTH.
json parse_bounded(const std::string& text);

// At most MAX_QUOTED_BYTES of `text` (cut on a UTF-8 character boundary), with "…" when something was cut.
std::string clipped(const std::string& text);

// A short rendering of a client's value for an error message: scalars as JSON (clipped), an array or an object
// by its kind and size, never its contents.
std::string quoted(const json& value);

}  // namespace mcp
