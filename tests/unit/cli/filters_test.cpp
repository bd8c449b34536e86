#include <gtest/gtest.h>

#include "cli/app/errors.hpp"
#include "cli/client/query.hpp"

namespace berth::cli {
namespace {

TEST(Filters, EncodesLikeDocker) {
  Filters f;
  f.add_arg("dangling=false");
  f.add("reference", "cap/bb");
  EXPECT_EQ(f.to_json(), R"({"dangling":{"false":true},"reference":{"cap/bb":true}})");
}

TEST(Filters, RepeatedKeysAndLabels) {
  Filters f;
  f.add_arg("event=start");
  f.add_arg("type=container");
  f.add_arg("label=capture=1");
  EXPECT_EQ(f.to_json(),
            R"({"event":{"start":true},"label":{"capture=1":true},"type":{"container":true}})");
}

TEST(Filters, BadFormat) {
  Filters f;
  EXPECT_THROW(f.add_arg("nokey"), StatusError);
}

TEST(Query, SortedAndEscaped) {
  Query q;
  q.add("stream", "1").add("stderr", "1").add("changes", "CMD [\"sh\"]").add("changes", "ENV A=1");
  EXPECT_EQ(q.encode(), "changes=CMD+%5B%22sh%22%5D&changes=ENV+A%3D1&stderr=1&stream=1");
  EXPECT_EQ(path_escape("127.0.0.1:5000/cap/bb:v1"), "127.0.0.1:5000/cap/bb:v1");
  EXPECT_EQ(query_escape("{\"a\":{\"b\":true}}"), "%7B%22a%22%3A%7B%22b%22%3Atrue%7D%7D");
}

}  // namespace
}  // namespace berth::cli
