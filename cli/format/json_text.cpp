#include "cli/format/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace berth::cli {

namespace json = boost::json;

std::string format_number(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e21) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", d);
    return buf;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, res.ptr);
}

namespace {

void append_string(std::string& out, std::string_view s, bool html) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (html && (c == '<' || c == '>' || c == '&')) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else if (c == 0xe2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xa8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_json(std::string& out, const json::value& v, bool html) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: out += std::to_string(v.get_int64()); break;
    case json::kind::uint64: out += std::to_string(v.get_uint64()); break;
    case json::kind::double_: out += format_number(v.get_double()); break;
    case json::kind::string: append_string(out, v.get_string(), html); break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json(out, e, html);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        append_string(out, kv.key(), html);
        out += ':';
        append_json(out, kv.value(), html);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string go_json(const json::value& v, bool escape_html) {
  std::string out;
  append_json(out, v, escape_html);
  return out;
}

std::string json_indent(std::string_view src, std::string_view indent) {
  std::string out;
  int depth = 0;
  bool need_indent = false;  // an opening bracket was just written
  auto newline = [&] {
    out += '\n';
    for (int i = 0; i < depth; ++i) out += indent;
  };
  for (size_t i = 0; i < src.size(); ++i) {
    char c = src[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (need_indent && c != ']' && c != '}') {
      need_indent = false;
      ++depth;
      newline();
    }
    if (c == '"') {
      size_t j = i + 1;
      while (j < src.size() && src[j] != '"') j += src[j] == '\\' ? 2 : 1;
      out.append(src.substr(i, j - i + 1));
      i = j;
      continue;
    }
    switch (c) {
      case '{':
      case '[':
        out += c;
        need_indent = true;
        break;
      case ',':
        out += c;
        newline();
        break;
      case ':':
        out += ": ";
        break;
      case '}':
      case ']':
        if (need_indent) {
          need_indent = false;  // empty container stays "{}" / "[]"
        } else {
          --depth;
          newline();
        }
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string go_print(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "<nil>";
    case json::kind::bool_: return v.get_bool() ? "true" : "false";
    case json::kind::int64: return std::to_string(v.get_int64());
    case json::kind::uint64: return std::to_string(v.get_uint64());
    case json::kind::double_: return format_number(v.get_double());
    case json::kind::string: return std::string(v.get_string());
    case json::kind::array: {
      std::string out = "[";
      bool first = true;
      for (auto& e : v.get_array()) {
        if (!first) out += ' ';
        first = false;
        out += go_print(e);
      }
      return out + "]";
    }
    case json::kind::object: {
      std::vector<std::pair<std::string, const json::value*>> items;
      for (auto& kv : v.get_object()) items.emplace_back(std::string(kv.key()), &kv.value());
      std::sort(items.begin(), items.end(), [](auto& a, auto& b) { return a.first < b.first; });
      std::string out = "map[";
      bool first = true;
      for (auto& [k, val] : items) {
        if (!first) out += ' ';
        first = false;
        out += k + ":" + go_print(*val);
      }
      return out + "]";
    }
  }
  return "";
}

}  // namespace berth::cli
