// libFuzzer harness (wasm/fuzz/run.sh): nested_deeper_than agrees with the real nesting of every text nlohmann
// parses (never more lenient), and quoting any value or text is safe.
#include <cstdint>
#include <cstdlib>
#include <vector>
#include "bounded_json.hpp"

static int depth_of(const mcp::json& root) {  // iterative: the value may be deep
    int deepest = 0;
    std::vector<std::pair<const mcp::json*, int>> todo{{&root, root.is_structured() ? 1 : 0}};
    while (!todo.empty()) {
        auto [v, d] = todo.back(); todo.pop_back();
        deepest = std::max(deepest, d);
        if (v->is_structured()) for (const auto& c : *v) todo.push_back({&c, c.is_structured() ? d + 1 : d});
    }
    return deepest;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    for (int limit : {0, 1, 2, 3, 5, 64}) {
        bool deeper = mcp::nested_deeper_than(text, limit);
        mcp::json parsed = mcp::json::parse(text, nullptr, false);
        if (parsed.is_discarded()) continue;
        // nlohmann stops at a NUL byte: past one, the scan may only be stricter than the parse.
        bool exact = text.find('\0') == std::string::npos;
        if (!deeper && depth_of(parsed) > limit) std::abort();
        if (exact && deeper != (depth_of(parsed) > limit)) std::abort();
    }
    (void)mcp::quoted(mcp::json::parse(text, nullptr, false));
    (void)mcp::clipped(text);
    return 0;
}
