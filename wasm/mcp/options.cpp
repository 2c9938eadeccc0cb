// Command-line option parsing shared by the servers (see driver.hpp).
#include "driver.hpp"

#include <algorithm>

std::string option_value(const std::vector<std::string>& args, const std::string& flag, const std::string& fallback) {
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == flag) {
            if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
            return args[i + 1];
        }
        if (args[i].rfind(flag + "=", 0) == 0) return args[i].substr(flag.size() + 1);
    }
    return fallback;
}

void reject_unknown_options(const std::vector<std::string>& args, const std::vector<std::string>& with_value,
                            const std::vector<std::string>& switches) {
    for (size_t i = 0; i < args.size(); ++i) {
        if (std::find(switches.begin(), switches.end(), args[i]) != switches.end()) continue;
        std::string name = args[i].substr(0, args[i].find('='));
        if (std::find(with_value.begin(), with_value.end(), name) == with_value.end())
            throw UsageError("unknown option '" + args[i] + "'");
        if (name == args[i]) ++i;  // skip the value of "--flag value"
    }
}
