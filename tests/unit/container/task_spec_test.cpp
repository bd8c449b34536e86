#include "core/container/task_spec.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace json = boost::json;
using namespace berth;
using namespace berth::core::container;

namespace {

// No container but "db", which runs as pid 4242, and "idle", which does not run.
Result<std::pair<std::string, int>> lookup(const std::string& name) {
  if (name == "db") return std::make_pair(std::string("db0123456789full"), 4242);
  if (name == "idle") return std::make_pair(std::string("idle0123456789full"), 0);
  return make_error(ErrorCode::kNotFound, "No such container: " + name);
}

json::object hc(const std::string& mode) { return json::object{{"NetworkMode", mode}}; }

TEST(NetworkPlacement, HostContainerAndTheModesThatNeedNothing) {
  auto host = network_placement(hc("host"), lookup);
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->host);
  EXPECT_EQ(host->network, "host");
  auto joined = network_placement(hc("container:db"), lookup);
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->netns_path, "/proc/4242/ns/net");
  EXPECT_FALSE(joined->host);
  for (const char* mode : {"none", "default", ""}) {
    auto p = network_placement(hc(mode), lookup);
    ASSERT_TRUE(p) << mode;
    EXPECT_FALSE(p->host);
    EXPECT_EQ(p->netns_path, "");
    EXPECT_EQ(p->network, std::string(mode) == "none" ? "" : "bridge") << mode;
  }
  // Named networks are the network manager's to resolve at start.
  auto named = network_placement(hc("backend"), lookup);
  ASSERT_TRUE(named);
  EXPECT_EQ(named->network, "backend");
}

TEST(NetworkPlacement, RefusalsSayWhatIsMissing) {
  auto idle = network_placement(hc("container:idle"), lookup);
  ASSERT_FALSE(idle);
  EXPECT_EQ(idle.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(idle.error().message, "cannot join network of a non running container: idle0123456789full");
  auto gone = network_placement(hc("container:nosuch"), lookup);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

ContainerRecord record() {
  ContainerRecord r;
  r.id = std::string(64, 'a');
  r.name = "/web";
  r.path = "sh";
  r.config = json::object{{"Cmd", json::array{"sh"}}, {"Tty", true}, {"OpenStdin", true}, {"StdinOnce", true}};
  r.host_config = json::object{{"NetworkMode", "none"}, {"Init", true}};
  r.log_path = "/logs/web.log";
  return r;
}

TaskInputs inputs() {
  TaskInputs in;
  in.bundle = "/run/bundle";
  in.daemon_log = {5 * 1024 * 1024, 2};
  sdk::Mount m;
  m.type = "overlay";
  m.source = "overlay";
  in.rootfs.push_back(m);
  return in;
}

TEST(TaskSpec, StdioInitRootfsAndTheDaemonsLogDefaults) {
  auto spec = build_task_spec(record(), inputs());
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->bundle, "/run/bundle");
  EXPECT_TRUE(spec->stdio.terminal);
  EXPECT_TRUE(spec->stdio.stdin);
  EXPECT_TRUE(spec->stdio.stdin_once);
  EXPECT_TRUE(spec->init);
  ASSERT_EQ(spec->rootfs.size(), 1u);
  EXPECT_EQ(spec->rootfs[0].type, "overlay");
  EXPECT_EQ(spec->log.path, "/logs/web.log");
  EXPECT_EQ(spec->log.max_size, 5 * 1024 * 1024);
  EXPECT_EQ(spec->log.max_files, 2);
  auto oci = json::parse(spec->oci_json).as_object();
  EXPECT_EQ(oci.at("process").at("args").at(0).as_string(), "sh");
  EXPECT_TRUE(oci.at("process").at("terminal").as_bool());
}

TEST(TaskSpec, TheContainersLogOptionsWinAndNoneKeepsNoLog) {
  auto r = record();
  r.host_config["LogConfig"] = json::object{{"Type", "json-file"},
                                            {"Config", json::object{{"max-size", "1m"}, {"max-file", "7"}}}};
  auto spec = build_task_spec(r, inputs());
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->log.max_size, 1024 * 1024);
  EXPECT_EQ(spec->log.max_files, 7);
  r.host_config["LogConfig"] = json::object{{"Type", "none"}};
  auto none = build_task_spec(r, inputs());
  ASSERT_TRUE(none);
  EXPECT_EQ(none->log.path, "");
  r.host_config["LogConfig"] = json::object{{"Type", "json-file"}, {"Config", json::object{{"max-size", "lots"}}}};
  auto bad = build_task_spec(r, inputs());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("log options"), std::string::npos) << bad.error().message;
}

}  // namespace
