#include "core/common/list_filters.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

using berth::core::created_window;
using berth::core::Filters;

namespace {

// Three objects created at 10, 20 and 30; any other name is unknown.
berth::Result<int64_t> created_of(const std::string& name) {
  static const std::map<std::string, int64_t> kCreated = {{"a", 10}, {"b", 20}, {"c", 30}};
  auto it = kCreated.find(name);
  if (it == kCreated.end()) {
    return berth::make_error(berth::ErrorCode::kNotFound, "No such object: " + name);
  }
  return it->second;
}

TEST(CreatedWindow, NoBoundAdmitsEverything) {
  auto w = created_window(Filters{}, created_of);
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->admits(0));
  EXPECT_TRUE(w->admits(1000));
}

TEST(CreatedWindow, BoundsAreStrictOnBothSides) {
  auto w = created_window(Filters{{"since", {"a"}}, {"before", {"c"}}}, created_of);
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->admits(10));  // the `since` object itself is not listed
  EXPECT_TRUE(w->admits(20));
  EXPECT_FALSE(w->admits(30));  // nor the `before` one
}

TEST(CreatedWindow, UnknownReferenceIsTheResolversError) {
  auto w = created_window(Filters{{"before", {"nope"}}}, created_of);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, berth::ErrorCode::kNotFound);
  EXPECT_NE(w.error().message.find("nope"), std::string::npos);
}

}  // namespace
