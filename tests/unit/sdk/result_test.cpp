#include "berth/sdk/result.hpp"

#include <gtest/gtest.h>

using namespace berth::sdk;

namespace {

Result<int> half(int x) {
  if (x % 2 != 0) return make_error(ErrorCode::kInvalidArgument, "odd number " + std::to_string(x));
  return x / 2;
}

Status quarter(int x, int* out) {
  auto h = half(x);
  BERTH_TRY_STATUS(h);
  auto q = half(*h);
  if (!q) return std::move(q).error().wrap("quarter of " + std::to_string(x));
  *out = *q;
  return {};
}

TEST(Result, ValuesErrorsAndWrapping) {
  EXPECT_EQ(*half(8), 4);
  EXPECT_EQ(half(3).error().code, ErrorCode::kInvalidArgument);
  int out = 0;
  EXPECT_TRUE(quarter(8, &out));
  EXPECT_EQ(out, 2);
  auto s = quarter(6, &out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "quarter of 6: odd number 3");
  EXPECT_EQ(half(5).value_or(-1), -1);
}

TEST(Result, ErrnoMapping) {
  EXPECT_EQ(errno_error("open x", ENOENT).code, ErrorCode::kNotFound);
  EXPECT_EQ(errno_error("open x", ENOENT).message, "open x: no such file or directory");
  EXPECT_EQ(errno_error("x", EACCES).code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(errno_error("x", ENOSPC).code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(errno_error("x", EBUSY).code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(error_code_from_status(99), ErrorCode::kInternal);
}

}  // namespace
