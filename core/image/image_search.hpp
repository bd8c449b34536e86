// docker search as policy apart from I/O: which registry a search term names, the result limit
// Docker accepts and the filters applied to what the registry answered. The registry's search
// itself is the transport's (sdk::RegistryTransport::search).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/registry_transport.hpp"
#include "core/common/list_filters.hpp"
#include "core/common/result.hpp"

namespace berth::core::image {

struct SearchTarget {
  std::string domain;  // "docker.io" or a registry host ("127.0.0.1:5000")
  std::string term;    // what that registry is asked for
};

// Docker's rule: "host/term" names a registry only when "host" has a dot or a colon or is
// "localhost"; anything else searches Docker Hub ("library/" dropped there). A scheme or an
// empty term is refused.
Result<SearchTarget> split_search_term(std::string_view term);

// The host a registry's search API is on: Docker Hub's is index.docker.io.
std::string search_host(std::string_view domain);

// ?limit=: empty or 0 is Docker's default of 25; otherwise 1 to 100.
Result<int> search_limit(std::string_view text);

struct SearchFilters {
  std::optional<bool> official;   // is-official=
  bool automated_only = false;    // is-automated=true (deprecated: Docker answers nothing)
  std::optional<int64_t> stars;   // stars=N: at least N (the largest N given)
};

// From the parsed ?filters= (keys is-official, is-automated, stars; checked by the caller).
Result<SearchFilters> search_filters(const Filters& filters);

// Keeps what the filters admit, in the registry's order; is_automated is always reported false,
// as Docker does since the field was deprecated.
std::vector<sdk::SearchResult> filter_search_results(std::vector<sdk::SearchResult> results,
                                                     const SearchFilters& filters);

}  // namespace berth::core::image
