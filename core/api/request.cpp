#include "core/api/request.hpp"

#include <set>

#include "core/api/body_schema.hpp"
#include "core/common/json_text.hpp"

#include <boost/json/parse.hpp>

namespace berth::core::api {
namespace {

class EmptyBody final : public Reader {
 public:
  Result<size_t> read(char*, size_t) override { return size_t{0}; }
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::multimap<std::string, std::string> parse_query(std::string_view query) {
  std::multimap<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(start, amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        out.emplace(percent_decode(pair, true), "");
      } else {
        out.emplace(percent_decode(pair.substr(0, eq), true),
                    percent_decode(pair.substr(eq + 1), true));
      }
    }
    start = amp + 1;
  }
  return out;
}

std::optional<std::string> Request::query_value(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Request::query_values(std::string_view name) const {
  std::vector<std::string> out;
  auto [b, e] = query.equal_range(std::string(name));
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

namespace {

// Query parameters that are booleans on every route that takes them.
const std::set<std::string_view>& bool_params() {
  static const std::set<std::string_view> k = {
      "all", "size", "force", "v", "link", "stdin", "stdout", "stderr", "logs", "stream",
      "follow", "timestamps", "one-shot", "noOverwriteDirNonDir", "copyUIDGID", "pause",
      "digests", "quiet", "noprune", "nocache", "rm", "forcerm", "q", "shared-size"};
  return k;
}

std::string lower(std::string_view v) {
  std::string out(v);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// dockerd's BoolValue words; anything else is refused rather than read as true.
std::optional<bool> parse_bool_word(std::string_view v) {
  std::string l = lower(v);
  if (l == "1" || l == "true" || l == "yes" || l == "on") return true;
  if (l.empty() || l == "0" || l == "false" || l == "no" || l == "none" || l == "off") return false;
  return std::nullopt;
}

}  // namespace

bool Request::query_bool(std::string_view name, bool fallback) const {
  auto v = query_value(name);
  if (!v) return fallback;
  return parse_bool_word(*v).value_or(false);
}

Status Request::check_bool_params() const {
  for (const auto& [name, value] : query) {
    if (bool_params().contains(name) && !parse_bool_word(value)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "invalid value for " + name + ": \"" + json_text::shorten_for_message(value, 64) +
                            "\" (expected 1, 0, true or false)");
    }
  }
  return {};
}

Result<int64_t> Request::query_int(std::string_view name, int64_t fallback) const {
  auto v = query_value(name);
  if (!v || v->empty()) return fallback;
  size_t i = 0;
  bool negative = false;
  if ((*v)[0] == '-') {
    negative = true;
    i = 1;
  }
  int64_t n = 0;
  if (i == v->size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid value for " + std::string(name) + ": \"" + *v + "\"");
  }
  for (; i < v->size(); ++i) {
    char c = (*v)[i];
    if (c < '0' || c > '9' || n > (INT64_MAX - 9) / 10) {
      return make_error(ErrorCode::kInvalidArgument,
                        "invalid value for " + std::string(name) + ": \"" + *v + "\"");
    }
    n = n * 10 + (c - '0');
  }
  return negative ? -n : n;
}

std::string Request::param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

std::string Request::header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

Reader& Request::body() {
  static EmptyBody empty;
  if (body_source == nullptr) return empty;
  return *body_source;
}

Result<std::string> Request::read_body(size_t limit) {
  std::string out;
  char buf[65536];
  Reader& in = body();
  for (;;) {
    auto n = in.read(buf, sizeof buf);
    if (!n) return n.error();
    if (*n == 0) break;
    if (out.size() + *n > limit) {
      return make_error(ErrorCode::kInvalidArgument,
                        "request body is larger than " + std::to_string(limit) + " bytes");
    }
    out.append(buf, *n);
  }
  return out;
}

Result<boost::json::value> Request::read_json() {
  auto text = read_body();
  if (!text) return text.error();
  if (text->find_first_not_of(" \t\r\n") == std::string::npos) return boost::json::object();
  boost::json::error_code ec;
  auto v = boost::json::parse(*text, ec);
  if (ec) {
    return make_error(ErrorCode::kInvalidArgument, "invalid JSON in request body: " + ec.message());
  }
  return v;
}

Result<boost::json::value> Request::read_json(const BodySchema& schema) {
  auto v = read_json();
  if (!v) return v;
  BERTH_TRY_STATUS(normalize_body(*v, schema));
  return v;
}

}  // namespace berth::core::api
