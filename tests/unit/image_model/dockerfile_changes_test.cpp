#include "core/image/dockerfile_changes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using berth::core::image::apply_change;
namespace json = boost::json;

namespace {

std::string after(std::initializer_list<const char*> lines) {
  json::object c;
  for (const char* l : lines) {
    auto s = apply_change(c, l);
    EXPECT_TRUE(s) << l << ": " << s.error().message;
  }
  return json::serialize(c);
}

TEST(DockerfileChanges, ExecAndShellForms) {
  EXPECT_EQ(after({"CMD [\"sh\", \"-c\", \"x\"]"}), R"({"Cmd":["sh","-c","x"]})");
  EXPECT_EQ(after({"CMD echo hi there"}), R"({"Cmd":["/bin/sh","-c","echo hi there"]})");
  EXPECT_EQ(after({"ENTRYPOINT [\"/init\"]"}), R"({"Entrypoint":["/init"]})");
  // Not a JSON array of strings: shell form, as Docker does.
  EXPECT_EQ(after({"CMD [1, 2]"}), R"({"Cmd":["/bin/sh","-c","[1, 2]"]})");
}

TEST(DockerfileChanges, EnvForms) {
  EXPECT_EQ(after({"ENV A=1 B=\"two words\" C='x y'"}), R"({"Env":["A=1","B=two words","C=x y"]})");
  EXPECT_EQ(after({"ENV LEGACY some value"}), R"({"Env":["LEGACY=some value"]})");
  EXPECT_EQ(after({"ENV A=1", "ENV A=2 B=3"}), R"({"Env":["A=2","B=3"]})");
}

TEST(DockerfileChanges, LabelsPortsVolumesAndScalars) {
  EXPECT_EQ(after({"LABEL a=b \"c d\"=e"}), R"({"Labels":{"a":"b","c d":"e"}})");
  EXPECT_EQ(after({"EXPOSE 80 53/udp"}), R"({"ExposedPorts":{"80/tcp":{},"53/udp":{}}})");
  EXPECT_EQ(after({"VOLUME [\"/data\", \"/logs\"]"}), R"({"Volumes":{"/data":{},"/logs":{}}})");
  EXPECT_EQ(after({"VOLUME /a /b"}), R"({"Volumes":{"/a":{},"/b":{}}})");
  EXPECT_EQ(after({"USER app:app", "STOPSIGNAL SIGINT"}), R"({"User":"app:app","StopSignal":"SIGINT"})");
  EXPECT_EQ(after({"WORKDIR /srv", "WORKDIR app"}), R"({"WorkingDir":"/srv/app"})");
  EXPECT_EQ(after({"onbuild RUN true"}), R"({"OnBuild":["RUN true"]})");
}

TEST(DockerfileChanges, ErrorsChangeNothing) {
  json::object c{{"Cmd", json::array{"sh"}}};
  std::string before = json::serialize(c);
  for (const char* bad : {"RUN make", "ENV", "EXPOSE 80/xyz", "EXPOSE abc", "LABEL =x",
                          "ENV A=\"unterminated", "USER", ""}) {
    auto s = apply_change(c, bad);
    EXPECT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, berth::ErrorCode::kInvalidArgument);
    EXPECT_EQ(json::serialize(c), before) << bad;
  }
  EXPECT_EQ(apply_change(c, "RUN make").error().message, "RUN is not a valid change command");
}

}  // namespace
