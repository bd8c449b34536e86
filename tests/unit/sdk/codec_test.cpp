// The JSON shapes that cross the ABI round-trip exactly, and bad shapes are refused with a
// message naming what was wrong.
#include "berth/sdk/codec.hpp"

#include <gtest/gtest.h>

using namespace berth::sdk;
using namespace berth::sdk::codec;

namespace {

template <class T>
T round_trip(const T& v) {
  auto back = from_json<T>(to_json(v));
  EXPECT_TRUE(back) << back.error().message;
  return *back;
}

TEST(Codec, StorageTypes) {
  std::vector<Mount> mounts = {{"overlay", "overlay", "", {"lowerdir=/a:/b", "upperdir=/u", "workdir=/w"}},
                               {"bind", "/src", "sub/dir", {"rbind", "ro"}}};
  EXPECT_EQ(round_trip(mounts), mounts);
  SnapshotInfo s{"sha256:abc", "sha256:def", SnapshotKind::kCommitted, {{"k", "v"}}, 1, 2};
  auto s2 = round_trip(s);
  EXPECT_EQ(s2.name, s.name);
  EXPECT_EQ(s2.parent, s.parent);
  EXPECT_EQ(s2.kind, SnapshotKind::kCommitted);
  EXPECT_EQ(s2.labels, s.labels);
  EXPECT_EQ(s2.updated_unix_nano, 2);
  Usage u{1 << 30, 77};
  EXPECT_EQ(round_trip(u).size, int64_t{1} << 30);
  WalkFilter f{"p", SnapshotKind::kView};
  EXPECT_EQ(*round_trip(f).kind, SnapshotKind::kView);
  EXPECT_FALSE(round_trip(WalkFilter{}).kind.has_value());
}

TEST(Codec, IsolationTypes) {
  CreateSpec c;
  c.bundle = "/run/berth/containers/x";
  c.oci_json = R"({"ociVersion":"1.0.2","process":{"args":["sh"]}})";
  c.rootfs = {{"bind", "/s", "", {"rbind"}}};
  c.stdio = {true, true, false};
  c.log = {"/var/log/x.json", 1024, 3};
  c.init = true;
  // The OCI spec is create's own ABI argument: the create spec's JSON never carries it.
  EXPECT_EQ(to_json(c).find("ociVersion"), std::string::npos);
  auto c2 = round_trip(c);
  EXPECT_EQ(c2.bundle, c.bundle);
  EXPECT_TRUE(c2.oci_json.empty());
  EXPECT_EQ(c2.rootfs, c.rootfs);
  EXPECT_TRUE(c2.stdio.terminal);
  EXPECT_EQ(c2.log.max_size, 1024);
  EXPECT_TRUE(c2.init);
  TaskState t{"id", TaskStatus::kPaused, 42, 137, true, 5, 6};
  auto t2 = round_trip(t);
  EXPECT_EQ(t2.status, TaskStatus::kPaused);
  EXPECT_EQ(t2.exit_code, 137);
  EXPECT_TRUE(t2.oom_killed);
  EXPECT_EQ(round_trip(std::vector<int>{1, 2, 3}), (std::vector<int>{1, 2, 3}));
}

TEST(Codec, TaskExitRoundTripsAndNeedsAnId) {
  TaskExit e{"c1", "e1", 42, 137, true, 1700000000123456789};
  auto e2 = round_trip(e);
  EXPECT_EQ(e2.id, "c1");
  EXPECT_EQ(e2.exec_id, "e1");
  EXPECT_EQ(e2.pid, 42);
  EXPECT_EQ(e2.exit_code, 137);
  EXPECT_TRUE(e2.oom_killed);
  EXPECT_EQ(e2.exited_at_unix_nano, 1700000000123456789);
  auto no_id = from_json<TaskExit>(R"({"exit_code":1})");
  ASSERT_FALSE(no_id);
  EXPECT_EQ(no_id.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(no_id.error().message.find("no id"), std::string::npos);
  auto wrong_type = from_json<TaskExit>(R"({"id":"c","exit_code":"1"})");
  ASSERT_FALSE(wrong_type);
  EXPECT_NE(wrong_type.error().message.find("exit_code"), std::string::npos);
}

TEST(Codec, CgroupStatsKeepAbsentGroupsAbsentAndOrder) {
  CgroupStats s;
  s.cpu = CgroupStats::Cpu{CgroupStats::CpuUsage{100, 60, 40, std::vector<uint64_t>{70, 30}},
                           5000, 2, 3, 1, 999};
  s.memory = CgroupStats::Memory{4096, std::nullopt, 1 << 20, 7, {{"rss", 1}, {"cache", 2}, {"anon", 3}}};
  s.blkio = CgroupStats::Blkio{{{8, 0, "Read", 512}}, {}};
  s.networks = {{"eth0", 1, 2, 3, 4, 5, 6, 7, 8}};
  auto s2 = round_trip(s);
  ASSERT_TRUE(s2.cpu && s2.cpu->usage && s2.cpu->usage->per_cpu);
  EXPECT_EQ(s2.cpu->usage->total, 100U);
  EXPECT_EQ(s2.cpu->usage->kernel, 40U);
  EXPECT_EQ(*s2.cpu->usage->per_cpu, (std::vector<uint64_t>{70, 30}));
  EXPECT_EQ(s2.cpu->throttled_time, 999U);
  ASSERT_TRUE(s2.memory);
  EXPECT_FALSE(s2.memory->max_usage.has_value());
  EXPECT_EQ(s2.memory->failcnt, std::optional<uint64_t>(7));
  // memory.stat keeps the kernel's order (Docker's JSON shows it so).
  ASSERT_EQ(s2.memory->stat.size(), 3U);
  EXPECT_EQ(s2.memory->stat[0].first, "rss");
  EXPECT_EQ(s2.memory->stat[2].first, "anon");
  EXPECT_FALSE(s2.pids.has_value());
  ASSERT_TRUE(s2.blkio);
  EXPECT_EQ(s2.blkio->service_bytes.at(0).op, "Read");
  ASSERT_EQ(s2.networks.size(), 1U);
  EXPECT_EQ(s2.networks[0].tx_dropped, 8U);
  auto empty = round_trip(CgroupStats{});
  EXPECT_FALSE(empty.cpu || empty.memory || empty.pids || empty.blkio);
  EXPECT_FALSE(from_json<CgroupStats>(R"({"memory":{"stat":[["rss"]]}})"));
}

TEST(Codec, NetworkAndRegistryTypes) {
  NetworkSpec n{"id", "net", R"({"com.docker.network.bridge.name":"b0"})", {{"10.0.0.0/24", "10.0.0.1"}}, true, true};
  auto n2 = round_trip(n);
  EXPECT_EQ(n2.options_json, n.options_json);
  EXPECT_EQ(n2.ipv4[0].gateway, "10.0.0.1");
  EXPECT_TRUE(n2.restore);
  std::vector<PortMapping> ports = {{"udp", "127.0.0.1", 8080, 80}};
  auto p2 = round_trip(ports);
  EXPECT_EQ(p2[0].protocol, "udp");
  EXPECT_EQ(p2[0].host_port, 8080);
  Descriptor d{"application/vnd.oci.image.manifest.v1+json", "sha256:x", 527};
  EXPECT_EQ(round_trip(d).size, 527);
  Credentials cr{"u", "p", ""};
  EXPECT_EQ(to_json(cr), R"({"username":"u","password":"p"})");
  SearchQuery q{"127.0.0.1:5000", true, "busy", 7};
  auto q2 = round_trip(q);
  EXPECT_EQ(q2.registry, q.registry);
  EXPECT_TRUE(q2.insecure);
  EXPECT_EQ(q2.term, "busy");
  EXPECT_EQ(q2.limit, 7);
  EXPECT_FALSE(from_json<SearchQuery>(R"({"term":"x","limit":99999999999})"));
  std::vector<SearchResult> results = {{"a/b", "desc", 12, true, false}, {"c", "", 0, false, true}};
  auto r2 = round_trip(results);
  ASSERT_EQ(r2.size(), 2u);
  EXPECT_EQ(r2[0].name, "a/b");
  EXPECT_EQ(r2[0].star_count, 12);
  EXPECT_TRUE(r2[0].is_official);
  EXPECT_TRUE(r2[1].is_automated);
  EXPECT_FALSE(from_json<std::vector<SearchResult>>(R"({"name":"a"})"));
}

TEST(Codec, MissingFieldsKeepDefaultsWrongTypesAreRefused) {
  auto m = from_json<SnapshotInfo>(R"({"name":"x"})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, SnapshotKind::kActive);
  auto bad = from_json<SnapshotInfo>(R"({"name":5})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "field \"name\" must be a string");
  auto kind = from_json<SnapshotInfo>(R"({"kind":"frozen"})");
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().message, "unknown snapshot kind \"frozen\"");
  EXPECT_FALSE(from_json<std::vector<Mount>>("{"));
  auto port = from_json<std::vector<PortMapping>>(R"([{"host_port":70000}])");
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().message, "port out of range");
}

}  // namespace
