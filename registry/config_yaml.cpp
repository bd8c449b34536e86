#include "registry/config_yaml.hpp"

#include <yaml-cpp/yaml.h>

#include <boost/json/object.hpp>
#include <cerrno>
#include <cstdlib>
#include <regex>

namespace berth::registry {
namespace json = boost::json;

namespace {

Error bad(const std::string& path, const std::string& key, const std::string& message) {
  return make_error(ErrorCode::kInvalidArgument,
                    "config " + path + ": " + (key.empty() ? "" : key + ": ") + message);
}

// A plain (unquoted, untagged) scalar as its YAML 1.2 core-schema value.
json::value plain_scalar(const std::string& text) {
  static const std::regex kInteger("[-+]?[0-9]+");
  static const std::regex kDecimal("[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (std::regex_match(text, kInteger)) {
    errno = 0;
    if (text[0] == '-') {
      long long v = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == 0) return static_cast<int64_t>(v);
    } else {
      unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
      if (errno == 0) {
        if (v <= static_cast<unsigned long long>(INT64_MAX)) return static_cast<int64_t>(v);
        return static_cast<uint64_t>(v);
      }
    }
    return json::string(text);  // out of range: left as text, and the key's check says what it wants
  }
  if (std::regex_match(text, kDecimal)) return std::strtod(text.c_str(), nullptr);
  return json::string(text);
}

Result<json::value> convert(const YAML::Node& node, const std::string& path,
                            const std::string& key) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return json::value(nullptr);
    case YAML::NodeType::Scalar:
      // yaml-cpp tags a plain scalar "?" and a quoted one "!"; an explicit tag (!!str) wins.
      if (node.Tag() == "?" || (node.Tag().starts_with("tag:yaml.org,2002:") &&
                                node.Tag() != "tag:yaml.org,2002:str")) {
        return plain_scalar(node.Scalar());
      }
      return json::value(node.Scalar());
    case YAML::NodeType::Sequence: {
      json::array out;
      for (size_t i = 0; i < node.size(); ++i) {
        auto item = convert(node[i], path, key + "[" + std::to_string(i) + "]");
        if (!item) return std::move(item).error();
        out.push_back(std::move(*item));
      }
      return json::value(std::move(out));
    }
    case YAML::NodeType::Map: {
      json::object out;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return bad(path, key, "has a key that is not a plain name (line " +
                                    std::to_string(entry.first.Mark().line + 1) + ")");
        }
        std::string name = entry.first.Scalar();
        std::string child = key.empty() ? name : key + "." + name;
        if (out.contains(name)) return bad(path, child, "is given twice: keep one");
        auto value = convert(entry.second, path, child);
        if (!value) return std::move(value).error();
        out[name] = std::move(*value);
      }
      return json::value(std::move(out));
    }
  }
  return json::value(nullptr);
}

}  // namespace

Result<json::value> yaml_to_json(std::string_view text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return bad(path, "", "not valid YAML (line " + std::to_string(e.mark.line + 1) + ", column " +
                             std::to_string(e.mark.column + 1) + ": " + e.msg + ")");
  }
  try {
    return convert(root, path, "");
  } catch (const YAML::Exception& e) {
    return bad(path, "", "not valid YAML (" + e.msg + ")");
  }
}

bool looks_like_yaml(const std::string& path, std::string_view text) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".yaml") || ends_with(".yml")) return true;
  if (ends_with(".json")) return false;
  size_t first = text.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos || text[first] != '{';
}

}  // namespace berth::registry
