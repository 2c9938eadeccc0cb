// See schema.hpp: the JSON Schema subset our tool input schemas use.
#include "schema.hpp"

#include <cmath>

namespace mcp {

namespace {

bool has_type(const json& value, const std::string& type) {
    if (type == "object") return value.is_object();
    if (type == "array") return value.is_array();
    if (type == "string") return value.is_string();
    if (type == "boolean") return value.is_boolean();
    if (type == "null") return value.is_null();
    if (type == "number") return value.is_number();
    if (type == "integer")
        return value.is_number_integer() ||
               (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
    return false;
}

// A path is built from the client's keys, so it is clipped like any quoted value.
std::string name_of(const std::string& path) { return path.empty() ? "arguments" : "argument '" + clipped(path) + "'"; }

}  // namespace

std::vector<std::string> validation_errors(const json& value, const json& schema, const std::string& path) {
    std::vector<std::string> problems;
    if (schema.contains("type")) {
        const std::string type = schema["type"];
        if (!has_type(value, type)) {
            problems.push_back(name_of(path) + " must be " + (type == "array" || type == "object" ? "an " : "a ") +
                               type + ", got " + quoted(value));
            return problems;
        }
    }
    if (schema.contains("enum")) {
        bool found = false;
        for (const auto& option : schema["enum"]) found = found || option == value;
        if (!found)
            problems.push_back(name_of(path) + " must be one of " + schema["enum"].dump() + ", got " + quoted(value));
    }
    if (value.is_number()) {
        double number = value.get<double>();
        if (schema.contains("minimum") && number < schema["minimum"].get<double>())
            problems.push_back(name_of(path) + " must be at least " + schema["minimum"].dump());
        if (schema.contains("maximum") && number > schema["maximum"].get<double>())
            problems.push_back(name_of(path) + " must be at most " + schema["maximum"].dump());
    }
    if (value.is_string() && schema.contains("minLength") && value.get<std::string>().size() < schema["minLength"])
        problems.push_back(name_of(path) + " must not be empty");
    if (value.is_array()) {
        if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>())
            problems.push_back(name_of(path) + " must have at least " + schema["minItems"].dump() + " items");
        if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>())
            problems.push_back(name_of(path) + " may have at most " + schema["maxItems"].dump() + " items");
        if (schema.contains("items"))
            for (size_t i = 0; i < value.size(); ++i) {
                auto inner = validation_errors(value[i], schema["items"], path + "[" + std::to_string(i) + "]");
                problems.insert(problems.end(), inner.begin(), inner.end());
            }
    }
    if (value.is_object()) {
        const json properties = schema.value("properties", json::object());
        for (const auto& required : schema.value("required", json::array()))
            if (!value.contains(required.get<std::string>()))
                problems.push_back("missing required argument '" + (path.empty() ? "" : path + ".") +
                                   required.get<std::string>() + "'");
        for (const auto& [key, item] : value.items()) {
            std::string inner_path = path.empty() ? key : path + "." + key;
            if (properties.contains(key)) {
                auto inner = validation_errors(item, properties[key], inner_path);
                problems.insert(problems.end(), inner.begin(), inner.end());
            } else if (schema.contains("additionalProperties") && schema["additionalProperties"] == false) {
                problems.push_back("unknown argument '" + clipped(inner_path) + "'");
            }
        }
    }
    return problems;
}

}  // namespace mcp
