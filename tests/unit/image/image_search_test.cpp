// docker search's policy: which registry a term names, the limit, and the filters on results.
#include <gtest/gtest.h>

#include "core/image/image_search.hpp"

using namespace berth::core;
using namespace berth::core::image;
using berth::ErrorCode;

namespace {

TEST(SearchTerm, ARegistryHostIsNamedOnlyByADotAColonOrLocalhost) {
  struct Case {
    const char* term;
    const char* domain;
    const char* rest;
  } cases[] = {
      {"busybox", "docker.io", "busybox"},
      {"library/busybox", "docker.io", "busybox"},
      {"team/app", "docker.io", "team/app"},
      {"127.0.0.1:5000/busy", "127.0.0.1:5000", "busy"},
      {"registry.example/team/app", "registry.example", "team/app"},
      {"localhost/app", "localhost", "app"},
      {"docker.io/library/alpine", "docker.io", "alpine"},
      {"index.docker.io/team/x", "docker.io", "team/x"},
  };
  for (const auto& c : cases) {
    auto t = split_search_term(c.term);
    ASSERT_TRUE(t) << c.term << ": " << t.error().message;
    EXPECT_EQ(t->domain, c.domain) << c.term;
    EXPECT_EQ(t->term, c.rest) << c.term;
  }
  EXPECT_EQ(search_host("docker.io"), "index.docker.io");
  EXPECT_EQ(search_host("127.0.0.1:5000"), "127.0.0.1:5000");
}

TEST(SearchTerm, EmptyTermsAndSchemesAreRefused) {
  for (const char* bad : {"", "https://registry.example/app", "127.0.0.1:5000/"}) {
    auto t = split_search_term(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_NE(split_search_term("http://x/y").error().message.find("should not have a scheme"),
            std::string::npos);
}

TEST(SearchLimit, DefaultsTo25AndAcceptsOneToOneHundred) {
  EXPECT_EQ(*search_limit(""), 25);
  EXPECT_EQ(*search_limit("0"), 25);
  EXPECT_EQ(*search_limit("1"), 1);
  EXPECT_EQ(*search_limit("100"), 100);
  auto over = search_limit("101");
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().message, "limit 101 is outside the range of [1, 100]");
  EXPECT_FALSE(search_limit("-3"));
  EXPECT_FALSE(search_limit("ten"));
  EXPECT_FALSE(search_limit("99999999999999999999"));
}

std::vector<berth::sdk::SearchResult> sample() {
  return {{"busybox", "official", 30, true, true},
          {"team/busybox", "a fork", 5, false, false},
          {"other/busybox", "", 0, false, true}};
}

std::vector<std::string> names(const std::vector<berth::sdk::SearchResult>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.name);
  return out;
}

TEST(SearchFilters, OfficialAndStarsKeepTheRegistryOrder) {
  auto none = search_filters({});
  ASSERT_TRUE(none);
  auto all = filter_search_results(sample(), *none);
  EXPECT_EQ(names(all), (std::vector<std::string>{"busybox", "team/busybox", "other/busybox"}));
  for (const auto& r : all) EXPECT_FALSE(r.is_automated) << r.name;  // deprecated, always false

  auto official = search_filters({{"is-official", {"true"}}});
  ASSERT_TRUE(official);
  EXPECT_EQ(names(filter_search_results(sample(), *official)), (std::vector<std::string>{"busybox"}));
  auto unofficial = search_filters({{"is-official", {"false"}}});
  EXPECT_EQ(names(filter_search_results(sample(), *unofficial)),
            (std::vector<std::string>{"team/busybox", "other/busybox"}));

  // Several stars= values: the largest counts, as in Docker.
  auto stars = search_filters({{"stars", {"3", "5"}}});
  ASSERT_TRUE(stars);
  EXPECT_EQ(*stars->stars, 5);
  EXPECT_EQ(names(filter_search_results(sample(), *stars)),
            (std::vector<std::string>{"busybox", "team/busybox"}));
}

TEST(SearchFilters, IsAutomatedTrueFindsNothingAndBadValuesAreRefused) {
  auto automated = search_filters({{"is-automated", {"true"}}});
  ASSERT_TRUE(automated);
  EXPECT_TRUE(filter_search_results(sample(), *automated).empty());
  auto not_automated = search_filters({{"is-automated", {"false"}}});
  EXPECT_EQ(filter_search_results(sample(), *not_automated).size(), 3u);

  auto bad_bool = search_filters({{"is-official", {"maybe"}}});
  ASSERT_FALSE(bad_bool);
  EXPECT_NE(bad_bool.error().message.find("is-official=maybe"), std::string::npos);
  auto bad_stars = search_filters({{"stars", {"many"}}});
  ASSERT_FALSE(bad_stars);
  EXPECT_NE(bad_stars.error().message.find("stars=many"), std::string::npos);
}

}  // namespace
