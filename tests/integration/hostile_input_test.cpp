// Hostile input to a real berthd, each class the hardening issue found: wrong JSON types and
// nonsense values (400 naming the field, nothing created), decompression bombs and non-tars
// (refused, nothing written), file names that are not UTF-8 (valid JSON out), loads shaped to
// eat memory (a fixed budget), and layers stored once.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <cstring>
#include <random>

#include "core/common/fs.hpp"
#include "core/common/sha256.hpp"
#include "core/layer/compression.hpp"
#include "tests/support/container_fixture.hpp"
#include "tests/support/tar_builder.hpp"

namespace json = boost::json;
namespace stdfs = std::filesystem;
using namespace berth::testing;

namespace {

std::string gzip(const std::string& data) {
  berth::StringWriter w;
  berth::core::layer::GzipWriter g(w, 1);
  EXPECT_TRUE(g.write(data));
  EXPECT_TRUE(g.finish());
  return w.take();
}

int64_t disk_usage(const stdfs::path& root) {
  int64_t total = 0;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(root, stdfs::directory_options::skip_permission_denied, ec);
       it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += st.st_blocks * 512;
  }
  return total;
}

int64_t vm_hwm_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// A one-file ustar archive written by hand: libarchive's writer refuses names that are not UTF-8,
// which is exactly what this needs.
std::string raw_ustar(const std::string& name, const std::string& content) {
  std::string h(512, '\0');
  name.copy(&h[0], std::min<size_t>(name.size(), 100));
  std::snprintf(&h[100], 8, "%07o", 0644);
  std::snprintf(&h[108], 8, "%07o", 0);
  std::snprintf(&h[116], 8, "%07o", 0);
  std::snprintf(&h[124], 12, "%011o", static_cast<unsigned>(content.size()));
  std::snprintf(&h[136], 12, "%011o", 1700000000u);
  h[156] = '0';
  std::memcpy(&h[257], "ustar\0" "00", 8);
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);
  std::string body = content + std::string((512 - content.size() % 512) % 512, '\0');
  return h + body + std::string(1024, '\0');
}

using HostileInput = ContainerTest;

struct BadBody {
  const char* body;
  const char* expect;  // in the message
};

TEST_F(HostileInput, WrongTypesAndNonsenseValuesAre400NamingTheFieldAndCreateNothing) {
  const BadBody cases[] = {
      {R"({"Image":"busybox:local","HostConfig":{"Memory":1.5}})",
       "Go struct field HostConfig.Memory of type int64"},
      {R"({"Image":"busybox:local","HostConfig":{"Memory":1e300}})", "HostConfig.Memory"},
      {R"({"Image":"busybox:local","HostConfig":"x"})", "field HostConfig of type HostConfig"},
      {R"({"Image":"busybox:local","HostConfig":{"Memory":"abc"}})", "cannot unmarshal string"},
      {R"({"Image":"busybox:local","HostConfig":{"PidsLimit":-5}})", "invalid PidsLimit -5"},
      {R"({"Image":"busybox:local","HostConfig":{"ShmSize":-1}})", "SHM size can not be less than 0"},
      {R"({"Image":"busybox:local","HostConfig":{"CpuQuota":-5}})", "CPU cfs quota"},
      {R"({"Image":"busybox:local","HostConfig":{"CpuPeriod":1}})", "CPU cfs period"},
      {R"({"Image":"busybox:local","HostConfig":{"Sysctls":{"kernel.nope":"1"}}})",
       "sysctl 'kernel.nope' is not allowed"},
      {R"({"Image":"busybox:local","HostConfig":{"SecurityOpt":["seccomp=/etc/passwd"]}})",
       "Decoding seccomp profile failed"},
      {R"({"Image":"busybox:local","HostConfig":{"NetworkMode":"../x"}})", "invalid network mode"},
      {R"({"Image":"busybox:local","HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"abc"}}}})",
       "invalid max-size \"abc\""},
      {R"({"Image":"busybox:local","HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-file":"0"}}}})",
       "invalid max-file \"0\""},
      {R"({"Image":"busybox:local","HostConfig":{"LogConfig":{"Type":"asdf"}}})",
       "logger: no log driver named 'asdf' is registered"},
      {R"({"Image":"busybox:local","HostConfig":{"StorageOpt":{"size":"-5"}}})", "invalid storage option size=-5"},
      // overlay cannot cap a container's size: refused with dockerd's words, not ignored.
      {R"({"Image":"busybox:local","HostConfig":{"StorageOpt":{"size":"10m"}}})",
       "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"},
      {R"({"Image":"busybox:local","Env":"x"})", "Go struct field Env of type []string"},
      {R"({"Image":"busybox:local","Tty":"yes"})", "field Tty of type bool"},
      {R"({"Image":"busybox:local","StopTimeout":"x"})", "field StopTimeout of type int"},
      {R"({"Image":"busybox:local","User":"a:b:c"})", "invalid user \"a:b:c\""},
  };
  for (const auto& c : cases) {
    auto r = d_.client().post("/v1.41/containers/create", c.body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << c.body << " -> " << r->body;
    json::error_code ec;
    auto v = json::parse(r->body, ec);
    ASSERT_FALSE(ec) << r->body;
    std::string message(v.at("message").as_string());
    EXPECT_NE(message.find(c.expect), std::string::npos) << c.body << " -> " << message;
    EXPECT_EQ(r->body.find("boost"), std::string::npos) << r->body;  // no library internals
  }
  // An unknown network is 404, as dockerd answers.
  auto net = d_.client().post("/v1.41/containers/create",
                              R"({"Image":"busybox:local","HostConfig":{"NetworkMode":"nosuchnet"}})");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->status, 404) << net->body;
  EXPECT_EQ(ok({"ps", "-aq"}), "");
  EXPECT_TRUE(stdfs::is_empty(d_.data_root() + "/containers"));
}

TEST_F(HostileInput, QueryValuesOfTheWrongShapeAre400) {
  std::string id = ok({"create", "busybox:local"});
  for (std::string target : {"/containers/" + id + "/stop?t=abc", "/containers/" + id + "/restart?t=1x"}) {
    auto r = d_.client().post(target);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << target << " " << r->body;
  }
  for (std::string target : {"/containers/json?all=xyz", "/containers/json?limit=-5", "/images/json?digests=maybe"}) {
    auto r = d_.client().get(target);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << target << " " << r->body;
  }
  // What clients really send still works: docker-py's limit=-1, all=1/true/True.
  for (std::string target : {"/containers/json?limit=-1&all=1", "/containers/json?all=True&size=false"}) {
    auto r = d_.client().get(target);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << target << " " << r->body;
  }
}

TEST_F(HostileInput, AnApiVersionBeyondIntIsNotAVersionAndTheDaemonStaysUp) {
  // Found by fuzz_http_request: the version's major number overflowed while being read.
  auto r = d_.client().get("/v" + std::string(60, '6') + "1.41/_ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;
  auto create = d_.client().post("/v" + std::string(40, '9') + ".41/containers/create",
                                 R"({"Image":"busybox:local","HostConfig":{"CpusetCpus":"0-"}})");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->status, 404) << create->body;
  auto bad_cpus = d_.client().post("/containers/create", R"({"Image":"busybox:local","HostConfig":{"CpusetCpus":"0-"}})");
  ASSERT_TRUE(bad_cpus);
  EXPECT_EQ(bad_cpus->status, 400) << bad_cpus->body;
  auto ping = d_.client().get("/_ping");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200);
}

TEST_F(HostileInput, BodyKeysMatchInAnyCaseAsDockerdDecodesThem) {
  auto r = d_.client().post("/v1.41/containers/create?name=anycase",
                            R"({"image":"busybox:local","cmd":["true"],"hostconfig":{"memory":16777216,"CPURealtimePeriod":0}})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(inspect("anycase", "{{.HostConfig.Memory}}"), "16777216");
  EXPECT_EQ(inspect("anycase", "{{json .Config.Cmd}}"), "[\"true\"]");
}

TEST_F(HostileInput, ABombIsRefusedByImportAndCpAndWritesNothing) {
  // 200 MiB of zeros in a real tar, gzipped to a few hundred KiB: more than 100 times.
  std::string bomb = gzip(make_tar({{TarEntry::kFile, "zeros", std::string(200 << 20, '\0')}}));
  ASSERT_LT(bomb.size(), 1u << 20);
  // And a gzip of zeros that is not a tar at all.
  std::string zeros = gzip(std::string(64 << 20, '\0'));
  int64_t before = disk_usage(d_.data_root());
  for (const auto& [what, body] : {std::pair{"bomb", bomb}, std::pair{"zeros", zeros}}) {
    HttpRequest req{"POST", "/v1.41/images/create?fromSrc=-&repo=bomb", {}, body, true};
    auto r = d_.client().request(req);
    ASSERT_TRUE(r);
    // import answers in its JSON stream once started, or with a status before.
    bool refused = r->status == 400 || r->body.find("errorDetail") != std::string::npos;
    EXPECT_TRUE(refused) << what << ": " << r->status << " " << r->body;
    EXPECT_NE(r->body.find(what == std::string("bomb") ? "max-expansion-ratio" : "not a tar archive"),
              std::string::npos)
        << r->body;
  }
  EXPECT_EQ(ok({"images", "-q", "bomb"}), "");
  std::string id = ok({"create", "busybox:local"});
  HttpRequest put{"PUT", "/v1.41/containers/" + id + "/archive?path=/tmp", {}, bomb, true};
  auto cp = d_.client().request(put);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->status, 400) << cp->body;
  EXPECT_NE(cp->body.find("max-expansion-ratio"), std::string::npos) << cp->body;
  // At most what the refusal let through (the 64 MiB floor of the ratio), nothing near 200 MiB.
  EXPECT_LT(disk_usage(d_.data_root()) - before, int64_t{80} << 20);
  EXPECT_TRUE(stdfs::is_empty(d_.data_root() + "/image/overlay/layers") ||
              !stdfs::exists(d_.data_root() + "/image/overlay/layers/tmp-"));
}

TEST_F(HostileInput, ALayerIsStoredOnceAndStillSavesByteForByte) {
  std::mt19937_64 rng(42);
  std::string noise(48 << 20, '\0');
  for (size_t i = 0; i + 8 <= noise.size(); i += 8) {
    uint64_t x = rng();
    std::memcpy(&noise[i], &x, 8);
  }
  std::string tar = make_tar({{TarEntry::kFile, "noise.bin", noise}, {TarEntry::kFile, "small", "s"}});
  int64_t before = disk_usage(d_.data_root());
  HttpRequest req{"POST", "/v1.41/images/create?fromSrc=-&repo=once", {}, tar, true};
  auto r = d_.client().request(req);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  int64_t grew = disk_usage(d_.data_root()) - before;
  // Once: about 48 MiB (the file), not 96 (the file plus the tar).
  EXPECT_GT(grew, int64_t{47} << 20);
  EXPECT_LT(grew, int64_t{56} << 20);
  auto saved = d_.client().get("/v1.41/images/get?names=once");
  ASSERT_TRUE(saved);
  ASSERT_EQ(saved->status, 200);
  EXPECT_NE(saved->body.find(noise.substr(0, 4096)), std::string::npos);
  auto inspect_out = d_.client().get("/v1.41/images/once/json");
  ASSERT_TRUE(inspect_out);
  auto diff = json::parse(inspect_out->body).at("RootFS").at("Layers").at(0).as_string();
  EXPECT_EQ(std::string(diff), berth::Sha256::of(tar));
}

TEST_F(HostileInput, FileNamesThatAreNotUtf8StillGiveValidJson) {
  std::string id = ok({"create", "--name", "names", "busybox:local"});
  std::string bad = std::string("na\xff") + "me\xe2\x82";
  std::string tar = raw_ustar(bad, "x");
  HttpRequest put{"PUT", "/v1.41/containers/" + id + "/archive?path=/tmp", {}, tar, true};
  auto cp = d_.client().request(put);
  ASSERT_TRUE(cp);
  ASSERT_EQ(cp->status, 200) << cp->body;
  auto changes = d_.client().get("/v1.41/containers/" + id + "/changes");
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->status, 200);
  json::error_code ec;
  auto v = json::parse(changes->body, ec);  // Boost.JSON, like Go, refuses invalid UTF-8
  ASSERT_FALSE(ec) << changes->body;
  EXPECT_NE(changes->body.find("na\xEF\xBF\xBDme\xEF\xBF\xBD"), std::string::npos) << changes->body;
  auto diff = berth({"diff", "names"});
  EXPECT_EQ(diff.exit_code, 0) << diff.err;
  // An error quoting such a name is valid JSON too.
  auto missing = d_.client().get("/v1.41/containers/" + id + "/archive?path=/tmp/" + "nope%FF");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << missing->body;
  json::parse(missing->body, ec);
  EXPECT_FALSE(ec) << missing->body;
}

TEST_F(HostileInput, LoadMemoryStaysWithinItsBudgetWhateverTheArchiveShape) {
  // 300 members of 1 MiB each: all "small", none an image file; berthd used to keep them all.
  std::vector<TarEntry> members;
  std::string mib(1 << 20, 'm');
  for (int i = 0; i < 300; ++i) members.push_back({TarEntry::kFile, "junk/" + std::to_string(i), mib});
  std::string archive = make_tar(members);
  members.clear();
  auto blobs = [&] {
    std::error_code e;
    auto it = stdfs::directory_iterator(d_.data_root() + "/content/blobs/sha256", e);
    return std::distance(it, stdfs::directory_iterator());
  };
  auto blobs_before = blobs();
  int64_t before = vm_hwm_kib(d_.pid());
  ASSERT_GT(before, 0);
  HttpRequest req{"POST", "/v1.41/images/load?quiet=1", {}, std::move(archive), true};
  auto r = d_.client().request(req);
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("neither manifest.json nor index.json"), std::string::npos) << r->body;
  int64_t after = vm_hwm_kib(d_.pid());
  EXPECT_LT(after - before, 48 * 1024) << "berthd's peak grew from " << before << " to " << after << " KiB";
  // And nothing it spooled stays.
  EXPECT_EQ(blobs(), blobs_before);
}

}  // namespace
