// Issue 11: where dockerd's behaviour is visible to clients, berthd's is the same. Each test drives
// the API as the client that found the difference does (raw HTTP here; docker-py and the docker
// CLI in tests/compat).
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/support/container_fixture.hpp"
#include "tests/support/tar_builder.hpp"

namespace json = boost::json;
using namespace berth::testing;

namespace {

using ApiFidelity = ContainerTest;

std::string state_status(HttpClient& c, const std::string& name) {
  auto r = c.get("/v1.41/containers/" + name + "/json");
  if (!r || r->status != 200) return "<inspect failed>";
  return std::string(json::parse(r->body).at("State").at("Status").as_string());
}

// A stop returns only once the old task is released, so the start of a restart never races its
// cleanup ("bundle is not a directory", "it already exists").
TEST_F(ApiFidelity, HundredRestartsInARowAllSucceed) {
  auto c = d_.client();
  // TERM ends it within 0.1 s, so each restart costs a start and a short stop.
  auto created = c.post("/v1.41/containers/create?name=r1",
                        R"({"Image":"busybox:local","Cmd":["sh","-c","trap 'exit 0' TERM; while true; do sleep 0.1; done"]})");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  ASSERT_EQ(c.post("/v1.41/containers/r1/start", "", "")->status, 204);
  int failures = 0;
  std::string first_failure;
  for (int i = 0; i < 100; ++i) {
    auto r = c.post("/v1.41/containers/r1/restart?t=1", "", "");
    ASSERT_TRUE(r);
    if (r->status != 204) {
      if (failures++ == 0) first_failure = std::to_string(r->status) + " " + r->body;
    }
  }
  EXPECT_EQ(failures, 0) << "first failure: " << first_failure;
  EXPECT_EQ(state_status(c, "r1"), "running");
  EXPECT_EQ(c.del("/v1.41/containers/r1?force=1")->status, 204);
}

// A SIGKILL answers once the exit is recorded: inspect right after says exited, rm works.
TEST_F(ApiFidelity, KillAnswersAfterTheExitIsRecorded) {
  auto c = d_.client();
  for (int i = 0; i < 10; ++i) {
    std::string name = "k" + std::to_string(i);
    ASSERT_EQ(c.post("/v1.41/containers/create?name=" + name,
                     R"({"Image":"busybox:local","Cmd":["sleep","1000"]})")->status, 201);
    ASSERT_EQ(c.post("/v1.41/containers/" + name + "/start", "", "")->status, 204);
    ASSERT_EQ(c.post("/v1.41/containers/" + name + "/kill", "", "")->status, 204);
    EXPECT_EQ(state_status(c, name), "exited") << "round " << i;
    auto rm = c.del("/v1.41/containers/" + name);
    EXPECT_EQ(rm->status, 204) << "round " << i << ": " << rm->body;
  }
}

// wait (not-running) on a container whose restart policy restarts it: the first exit wakes it.
TEST_F(ApiFidelity, WaitReturnsAtTheFirstExitOfARestartingContainer) {
  auto c = d_.client();
  ASSERT_EQ(c.post("/v1.41/containers/create?name=w1",
                   R"({"Image":"busybox:local","Cmd":["sh","-c","sleep 1; exit 3"],
                       "HostConfig":{"RestartPolicy":{"Name":"always"}}})")->status, 201);
  ASSERT_EQ(c.post("/v1.41/containers/w1/start", "", "")->status, 204);
  auto t0 = std::chrono::steady_clock::now();
  auto stream = c.stream({"POST", "/v1.41/containers/w1/wait"});
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->head.status, 200);
  auto body = stream->read_until("StatusCode", 10000);
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_NE(body->find("\"StatusCode\":3"), std::string::npos) << *body;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8));
  EXPECT_EQ(c.del("/v1.41/containers/w1?force=1")->status, 204);
}

// Binds made through HostConfig.Mounts report rprivate, as dockerd; a shared bind of a source
// that cannot propagate is refused at start with dockerd's message.
TEST_F(ApiFidelity, BindPropagationIsReportedAndRefusedWhereItCannotPropagate) {
  auto c = d_.client();
  std::string src = dir_.path().string() + "/private-src";
  std::filesystem::create_directories(src);
  ASSERT_EQ(::mount("tmpfs", src.c_str(), "tmpfs", 0, "size=1m"), 0);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{src};
  ASSERT_EQ(::mount(nullptr, src.c_str(), nullptr, MS_PRIVATE, nullptr), 0);

  auto created = c.post("/v1.41/containers/create?name=m1",
                        R"({"Image":"busybox:local","Cmd":["true"],"HostConfig":{"Mounts":[{"Type":"bind","Source":")" +
                            src + R"(","Target":"/m"}]}})");
  ASSERT_EQ(created->status, 201) << created->body;
  auto info = json::parse(c.get("/v1.41/containers/m1/json")->body);
  EXPECT_EQ(info.at("Mounts").at(0).at("Propagation").as_string(), "rprivate");

  ASSERT_EQ(c.post("/v1.41/containers/create?name=m2",
                   R"({"Image":"busybox:local","Cmd":["true"],"HostConfig":{"Binds":[")" + src +
                       R"(:/m:rshared"]}})")->status, 201);
  auto start = c.post("/v1.41/containers/m2/start", "", "");
  EXPECT_NE(start->status, 204);
  EXPECT_NE(start->body.find("path " + src + " is mounted on " + src + " but it is not a shared mount"),
            std::string::npos)
      << start->body;
  ASSERT_EQ(c.post("/v1.41/containers/create?name=m3",
                   R"({"Image":"busybox:local","Cmd":["true"],"HostConfig":{"Binds":[")" + src +
                       R"(:/m:rslave"]}})")->status, 201);
  auto slave = c.post("/v1.41/containers/m3/start", "", "");
  EXPECT_NE(slave->body.find("but it is not a shared or slave mount"), std::string::npos) << slave->body;
  for (auto name : {"m1", "m2", "m3"}) EXPECT_EQ(c.del(std::string("/v1.41/containers/") + name)->status, 204);
}

// cp from and to a stopped container reaches its volumes (dockerd mounts them for archive
// operations), and leaves no mount behind.
TEST_F(ApiFidelity, ArchiveOfAStoppedContainerSeesItsVolumes) {
  auto c = d_.client();
  ASSERT_EQ(c.post("/v1.41/containers/create?name=v1",
                   R"({"Image":"busybox:local","Cmd":["sh","-c","echo in-volume > /vol1/data.txt"],
                       "Volumes":{"/vol1":{}}})")->status, 201);
  ASSERT_EQ(c.post("/v1.41/containers/v1/start", "", "")->status, 204);
  ASSERT_TRUE(eventually([&] { return state_status(c, "v1") == "exited"; }));
  auto got = c.get("/v1.41/containers/v1/archive?path=/vol1/data.txt");
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_NE(got->body.find("in-volume\n"), std::string::npos);
  EXPECT_NE(got->header("x-docker-container-path-stat"), "");

  // PUT into a created container's volume: the container reads it when it runs.
  ASSERT_EQ(c.post("/v1.41/containers/create?name=v2",
                   R"({"Image":"busybox:local","Cmd":["cat","/vol2/put.txt"],"Volumes":{"/vol2":{}}})")->status,
            201);
  HttpRequest put{"PUT", "/v1.41/containers/v2/archive?path=/vol2"};
  put.headers["Content-Type"] = "application/x-tar";
  put.body = make_tar({{TarEntry::kFile, "put.txt", "put-into-volume\n"}});
  auto put_r = c.request(put);
  ASSERT_EQ(put_r->status, 200) << put_r->body;
  ASSERT_EQ(c.post("/v1.41/containers/v2/start", "", "")->status, 204);
  ASSERT_TRUE(eventually([&] { return state_status(c, "v2") == "exited"; }));
  EXPECT_EQ(ok({"logs", "v2"}), "put-into-volume");

  std::ifstream mounts("/proc/self/mountinfo");
  std::string all((std::istreambuf_iterator<char>(mounts)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find("/mounts/rootfs-"), std::string::npos) << "a cp view stayed mounted";
  for (auto name : {"v1", "v2"}) EXPECT_EQ(c.del(std::string("/v1.41/containers/") + name + "?v=1")->status, 204);
}

}  // namespace
