#include "core/image/image_search.hpp"

#include <charconv>

namespace berth::core::image {
namespace {

constexpr int kDefaultLimit = 25;
constexpr int kMaxLimit = 100;

}  // namespace

Result<SearchTarget> split_search_term(std::string_view term) {
  if (term.empty()) return make_error(ErrorCode::kInvalidArgument, "search term must not be empty");
  if (term.find("://") != std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "invalid repository name: repository name (" +
                                                       std::string(term) +
                                                       ") should not have a scheme");
  }
  SearchTarget t{"docker.io", std::string(term)};
  if (auto slash = term.find('/'); slash != std::string_view::npos) {
    std::string_view first = term.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost") {
      t.domain = std::string(first);
      t.term = std::string(term.substr(slash + 1));
      if (t.term.empty()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "search term must not be empty: give what to look for after " + t.domain + "/");
      }
    }
  }
  if (t.domain == "docker.io" || t.domain == "index.docker.io") {
    t.domain = "docker.io";
    if (t.term.rfind("library/", 0) == 0) t.term.erase(0, 8);
  }
  return t;
}

std::string search_host(std::string_view domain) {
  if (domain == "docker.io" || domain == "index.docker.io") return "index.docker.io";
  return std::string(domain);
}

Result<int> search_limit(std::string_view text) {
  if (text.empty()) return kDefaultLimit;
  int limit = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return make_error(ErrorCode::kInvalidArgument, "invalid limit \"" + std::string(text) + "\": give a number from 1 to 100");
  }
  if (limit == 0) return kDefaultLimit;
  if (limit < 1 || limit > kMaxLimit) {
    return make_error(ErrorCode::kInvalidArgument,
                      "limit " + std::to_string(limit) + " is outside the range of [1, 100]");
  }
  return limit;
}

Result<SearchFilters> search_filters(const Filters& filters) {
  SearchFilters f;
  if (filters.contains("is-official")) {
    auto b = filter_bool(filters, "is-official", false);
    if (!b) return b.error();
    f.official = *b;
  }
  auto automated = filter_bool(filters, "is-automated", false);
  if (!automated) return automated.error();
  f.automated_only = *automated;
  if (auto it = filters.find("stars"); it != filters.end()) {
    for (const auto& v : it->second) {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "invalid filter 'stars=" + v + "': give a whole number of stars");
      }
      if (!f.stars || n > *f.stars) f.stars = n;
    }
  }
  return f;
}

std::vector<sdk::SearchResult> filter_search_results(std::vector<sdk::SearchResult> results,
                                                     const SearchFilters& filters) {
  std::vector<sdk::SearchResult> kept;
  if (filters.automated_only) return kept;  // no registry marks anything automated any more
  for (auto& r : results) {
    if (filters.official && r.is_official != *filters.official) continue;
    if (filters.stars && r.star_count < *filters.stars) continue;
    r.is_automated = false;
    kept.push_back(std::move(r));
  }
  return kept;
}

}  // namespace berth::core::image
