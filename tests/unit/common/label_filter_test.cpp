#include "core/common/label_filter.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

using berth::core::label_matches;
using berth::core::labels_match;
using berth::core::labels_match_none;

namespace {

const std::map<std::string, std::string> kLabels = {{"app", "web"}, {"tier", ""}, {"a=b", "c"}};

TEST(LabelFilter, KeyAloneMatchesAnyValueEvenEmpty) {
  EXPECT_TRUE(label_matches(kLabels, "app"));
  EXPECT_TRUE(label_matches(kLabels, "tier"));
  EXPECT_FALSE(label_matches(kLabels, "db"));
}

TEST(LabelFilter, KeyValueMatchesExactlyThatValue) {
  EXPECT_TRUE(label_matches(kLabels, "app=web"));
  EXPECT_FALSE(label_matches(kLabels, "app=we"));
  EXPECT_FALSE(label_matches(kLabels, "app=web2"));
  EXPECT_TRUE(label_matches(kLabels, "tier="));
  EXPECT_FALSE(label_matches(kLabels, "tier=x"));
  // The first '=' splits: a key cannot hold one in a filter (as in dockerd).
  EXPECT_FALSE(label_matches(kLabels, "a=b=c"));
}

TEST(LabelFilter, LabelFiltersAreAndedAndNegationNeedsNoneToHold) {
  EXPECT_TRUE(labels_match(kLabels, {}));
  EXPECT_TRUE(labels_match(kLabels, {"app=web", "tier"}));
  EXPECT_FALSE(labels_match(kLabels, {"app=web", "db"}));
  EXPECT_TRUE(labels_match_none(kLabels, {"db", "app=api"}));
  EXPECT_FALSE(labels_match_none(kLabels, {"db", "app"}));
  EXPECT_TRUE(labels_match_none(kLabels, {}));
}

}  // namespace
