// Images end to end through a real berthd: import, list, inspect, tag, history, save/load round
// trips (Docker and OCI layouts), removal rules, prune, events, persistence, and hostile layers
// that must be refused without leaving anything behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "core/common/fs.hpp"
#include "core/common/sha256.hpp"
#include "tests/support/berthd_process.hpp"
#include "tests/support/tar_builder.hpp"

namespace json = boost::json;
using namespace berth::testing;

namespace {

class ImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "integration tests run berthd as root (overlay mounts)";
    ASSERT_TRUE(d_.start()) << d_.log();
  }

  // POST /images/create?fromSrc=- with a chunked body, like `docker import`.
  HttpResponse import(const std::string& tar, const std::string& repo,
                      const std::vector<std::string>& changes = {}) {
    std::string target = "/v1.41/images/create?fromSrc=-";
    if (!repo.empty()) target += "&repo=" + repo;
    for (const auto& c : changes) {
      std::string enc;
      for (char ch : c) {
        if (std::isalnum(static_cast<unsigned char>(ch))) enc += ch;
        else {
          char buf[4];
          std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(ch));
          enc += buf;
        }
      }
      target += "&changes=" + enc;
    }
    HttpRequest req{"POST", target, {{"Content-Type", "text/plain"}}, tar, true};
    auto r = d_.client().request(req);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : HttpResponse{};
  }
  std::string busybox() {
    auto bytes = berth::fs::read_file(busybox_tar());
    EXPECT_TRUE(bytes);
    return *bytes;
  }
  // The image id from an import answer ({"status":"sha256:..."}).
  static std::string imported_id(const HttpResponse& r) {
    auto v = json::parse(r.body.substr(0, r.body.find('\n'))).as_object();
    return std::string(v.at("status").as_string());
  }
  json::value get_json(const std::string& target, int want = 200) {
    auto r = d_.client().get(target);
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, want) << target << ": " << r->body;
    return json::parse(r->body);
  }
  std::vector<std::string> files_under(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         it != std::filesystem::recursive_directory_iterator(); ++it) {
      if (it->is_regular_file()) out.push_back(it->path().string());
    }
    return out;
  }

  TempDir dir_{"berth-images"};
  BerthdProcess d_{dir_.path()};
};

TEST_F(ImagesTest, ImportListInspectTagHistory) {
  auto r = import(busybox(), "busybox:local");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  std::string id = imported_id(r);
  ASSERT_TRUE(berth::is_valid_digest(id)) << r.body;

  auto list = get_json("/v1.41/images/json").as_array();
  ASSERT_EQ(list.size(), 1u);
  auto img = list[0].as_object();
  EXPECT_EQ(img.at("Id").as_string(), id);
  EXPECT_EQ(img.at("RepoTags").as_array().at(0).as_string(), "busybox:local");
  EXPECT_GT(img.at("Size").as_int64(), 1000000);
  EXPECT_TRUE(img.at("Created").is_int64());

  auto inspect = get_json("/v1.41/images/busybox:local/json").as_object();
  EXPECT_EQ(inspect.at("Id").as_string(), id);
  EXPECT_EQ(inspect.at("Comment").as_string(), "Imported from -");
  EXPECT_EQ(inspect.at("Os").as_string(), "linux");
  EXPECT_EQ(inspect.at("RootFS").as_object().at("Layers").as_array().size(), 1u);
  std::string diff_id(inspect.at("RootFS").as_object().at("Layers").as_array()[0].as_string());
  // The layer is the uncompressed tar: its digest is the diff id.
  EXPECT_EQ(diff_id, berth::Sha256::of(busybox()));

  // Lookups by id, short id and "sha256:" prefix all resolve.
  get_json("/v1.41/images/" + id.substr(7) + "/json");
  get_json("/v1.41/images/" + id.substr(7, 12) + "/json");
  get_json("/v1.41/images/" + id.substr(0, 19) + "/json");

  auto tag = d_.client().post("/v1.41/images/busybox:local/tag?repo=docker.io/cap/bb&tag=v1", "", "");
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->status, 201);
  auto tags = get_json("/v1.41/images/" + id + "/json").as_object().at("RepoTags").as_array();
  ASSERT_EQ(tags.size(), 2u);
  // Stored in familiar form whatever form the request used.
  std::set<std::string> names{std::string(tags[0].as_string()), std::string(tags[1].as_string())};
  EXPECT_TRUE(names.contains("cap/bb:v1"));
  EXPECT_TRUE(names.contains("busybox:local"));

  auto filtered = get_json("/v1.41/images/json?filters=%7B%22reference%22%3A%7B%22cap%2Fbb%22%3Atrue%7D%7D").as_array();
  ASSERT_EQ(filtered.size(), 1u);
  // As dockerd: only the names that match the filter are listed (`docker images cap/bb` shows
  // one row, not one per tag of the image).
  auto shown = filtered[0].as_object().at("RepoTags").as_array();
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(shown[0].as_string(), "cap/bb:v1");
  EXPECT_TRUE(get_json("/v1.41/images/json?filters=%7B%22reference%22%3A%7B%22nomatch*%22%3Atrue%7D%7D").as_array().empty());

  auto history = get_json("/v1.41/images/cap/bb:v1/history").as_array();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].as_object().at("Id").as_string(), id);
  EXPECT_EQ(history[0].as_object().at("Comment").as_string(), "Imported from -");

  auto bad_tag = d_.client().post("/v1.41/images/busybox:local/tag?repo=Bad/Name&tag=v1", "", "");
  ASSERT_TRUE(bad_tag);
  EXPECT_EQ(bad_tag->status, 400);
}

TEST_F(ImagesTest, ImportAppliesChanges) {
  auto r = import(busybox(), "cap/changed:v2",
                  {"CMD [\"sh\",\"-c\",\"echo hi\"]", "ENV A=1 B=two", "LABEL team=core",
                   "EXPOSE 80/tcp 53/udp", "WORKDIR /srv", "USER 1000", "ENTRYPOINT /bin/env"});
  ASSERT_EQ(r.status, 200) << r.body;
  auto config = get_json("/v1.41/images/cap/changed:v2/json").as_object().at("Config").as_object();
  EXPECT_EQ(json::serialize(config.at("Cmd")), R"(["sh","-c","echo hi"])");
  EXPECT_EQ(json::serialize(config.at("Env")), R"(["A=1","B=two"])");
  EXPECT_EQ(config.at("Labels").as_object().at("team").as_string(), "core");
  EXPECT_TRUE(config.at("ExposedPorts").as_object().contains("80/tcp"));
  EXPECT_TRUE(config.at("ExposedPorts").as_object().contains("53/udp"));
  EXPECT_EQ(config.at("WorkingDir").as_string(), "/srv");
  EXPECT_EQ(config.at("User").as_string(), "1000");
  EXPECT_EQ(json::serialize(config.at("Entrypoint")), R"(["/bin/sh","-c","/bin/env"])");

  auto bad = import(busybox(), "cap/bad:v1", {"FROBNICATE yes"});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("FROBNICATE is not a valid change command"), std::string::npos) << bad.body;
  EXPECT_EQ(get_json("/v1.41/images/json").as_array().size(), 1u);
}

TEST_F(ImagesTest, SaveAndLoadRoundTripKeepsEveryDigest) {
  auto r = import(busybox(), "busybox:local");
  ASSERT_EQ(r.status, 200);
  std::string id = imported_id(r);
  ASSERT_EQ(d_.client().post("/v1.41/images/busybox:local/tag?repo=cap/bb&tag=v1", "", "")->status, 201);
  auto before = get_json("/v1.41/images/" + id + "/json").as_object();

  auto saved = d_.client().get("/v1.41/images/get?names=busybox:local&names=cap/bb:v1");
  ASSERT_TRUE(saved);
  ASSERT_EQ(saved->status, 200);
  EXPECT_EQ(saved->header("content-type"), "application/x-tar");
  auto tar_path = dir_.path() / "saved.tar";
  ASSERT_TRUE(berth::fs::atomic_write(tar_path, saved->body));
  auto listing = run_command({"/bin/tar", "-tf", tar_path.string()});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_NE(listing.out.find("manifest.json"), std::string::npos);
  EXPECT_NE(listing.out.find("index.json"), std::string::npos);
  EXPECT_NE(listing.out.find("oci-layout"), std::string::npos);
  EXPECT_NE(listing.out.find("blobs/sha256/" + id.substr(7)), std::string::npos);

  auto del = d_.client().request({"DELETE", "/v1.41/images/" + id + "?force=1"});
  ASSERT_TRUE(del);
  ASSERT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(get_json("/v1.41/images/json").as_array().size(), 0u);
  // Everything went: the config, the layer blob, the snapshot.
  EXPECT_TRUE(files_under(d_.data_root() + "/content/blobs").empty());

  HttpRequest load{"POST", "/v1.41/images/load?quiet=1", {{"Content-Type", "application/x-tar"}},
                   saved->body, true};
  auto loaded = d_.client().request(load);
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->status, 200) << loaded->body;
  EXPECT_EQ(loaded->header("content-type"), "application/json");
  EXPECT_NE(loaded->body.find("Loaded image: busybox:local"), std::string::npos) << loaded->body;
  EXPECT_NE(loaded->body.find("Loaded image: cap/bb:v1"), std::string::npos) << loaded->body;

  auto after = get_json("/v1.41/images/cap/bb:v1/json").as_object();
  EXPECT_EQ(after.at("Id"), before.at("Id"));
  EXPECT_EQ(after.at("RootFS"), before.at("RootFS"));
  EXPECT_EQ(after.at("Size"), before.at("Size"));

  // Saving again gives the same bytes: the archive is a pure function of the images.
  auto again = d_.client().get("/v1.41/images/get?names=busybox:local&names=cap/bb:v1");
  ASSERT_TRUE(again);
  EXPECT_EQ(berth::Sha256::of(again->body), berth::Sha256::of(saved->body));
}

TEST_F(ImagesTest, LoadsAnOciLayoutWithGzipLayers) {
  std::string layer = busybox();
  std::string gz = make_tar({{TarEntry::kFile, "hello.txt", "hi from oci\n"}}, true);
  std::string small_layer = make_tar({{TarEntry::kFile, "hello.txt", "hi from oci\n"}});
  std::string diff1 = berth::Sha256::of(layer);
  std::string diff2 = berth::Sha256::of(small_layer);
  json::object config{{"architecture", "amd64"},
                      {"os", "linux"},
                      {"created", "2024-01-01T00:00:00Z"},
                      {"config", json::object{{"Cmd", json::array{"sh"}}}},
                      {"rootfs", json::object{{"type", "layers"},
                                              {"diff_ids", json::array{json::string(diff1), json::string(diff2)}}}}};
  std::string config_bytes = json::serialize(config);
  std::string config_digest = berth::Sha256::of(config_bytes);
  json::object manifest{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config", json::object{{"mediaType", "application/vnd.oci.image.config.v1+json"},
                              {"digest", config_digest},
                              {"size", config_bytes.size()}}},
      {"layers", json::array{json::object{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                          {"digest", diff1}, {"size", layer.size()}},
                             json::object{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                                          {"digest", berth::Sha256::of(gz)}, {"size", gz.size()}}}}};
  std::string manifest_bytes = json::serialize(manifest);
  std::string manifest_digest = berth::Sha256::of(manifest_bytes);
  json::object index{{"schemaVersion", 2},
                     {"manifests", json::array{json::object{
                                       {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                       {"digest", manifest_digest},
                                       {"size", manifest_bytes.size()},
                                       {"annotations", json::object{{"io.containerd.image.name",
                                                                     "docker.io/oci/busybox:gz"}}}}}}};
  auto blob = [](const std::string& d) { return "blobs/sha256/" + d.substr(7); };
  std::string archive = make_tar({{TarEntry::kFile, "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
                                  {TarEntry::kFile, "index.json", json::serialize(index)},
                                  {TarEntry::kFile, blob(manifest_digest), manifest_bytes},
                                  {TarEntry::kFile, blob(config_digest), config_bytes},
                                  {TarEntry::kFile, blob(diff1), layer},
                                  {TarEntry::kFile, blob(berth::Sha256::of(gz)), gz}});
  HttpRequest load{"POST", "/v1.41/images/load?quiet=1", {}, archive, true};
  auto r = d_.client().request(load);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("Loaded image: oci/busybox:gz"), std::string::npos) << r->body;
  auto inspect = get_json("/v1.41/images/oci/busybox:gz/json").as_object();
  EXPECT_EQ(inspect.at("Id").as_string(), config_digest);
  auto layers = inspect.at("RootFS").as_object().at("Layers").as_array();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[1].as_string(), diff2);
  // The compressed original is not kept: only configs and uncompressed layers remain.
  for (const auto& f : files_under(d_.data_root() + "/content/blobs")) {
    EXPECT_EQ(f.find(berth::Sha256::of(gz).substr(7)), std::string::npos) << f;
  }
}

TEST_F(ImagesTest, LoadRefusesALayerThatDoesNotMatchItsDiffId) {
  std::string layer = make_tar({{TarEntry::kFile, "a", "a"}});
  std::string other = make_tar({{TarEntry::kFile, "b", "b"}});
  json::object config{{"architecture", "amd64"}, {"os", "linux"},
                      {"rootfs", json::object{{"type", "layers"},
                                              {"diff_ids", json::array{json::string(berth::Sha256::of(other))}}}}};
  std::string config_bytes = json::serialize(config);
  std::string manifest = R"([{"Config":"config.json","RepoTags":["cap/liar:v1"],"Layers":["l/layer.tar"]}])";
  std::string archive = make_tar({{TarEntry::kFile, "config.json", config_bytes},
                                  {TarEntry::kFile, "l/layer.tar", layer},
                                  {TarEntry::kFile, "manifest.json", manifest}});
  auto r = d_.client().request({"POST", "/v1.41/images/load?quiet=1", {}, archive, true});
  ASSERT_TRUE(r);
  // dockerd answers every load failure inside a 200 JSON stream (docker-py's ImageLoadError).
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("\"errorDetail\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("does not match diff id"), std::string::npos) << r->body;
  EXPECT_EQ(get_json("/v1.41/images/json").as_array().size(), 0u);
  EXPECT_TRUE(files_under(d_.data_root() + "/content/blobs").empty());
}

TEST_F(ImagesTest, HostileLayersAreRefusedAndLeaveNothingBehind) {
  auto canary = dir_.path() / "canary";
  std::filesystem::create_directories(canary);
  struct Case {
    const char* what;
    std::vector<TarEntry> entries;
  };
  std::vector<Case> cases = {
      {"dotdot", {{TarEntry::kFile, "ok.txt", "fine"}, {TarEntry::kFile, "../../canary/evil", "x"}}},
      {"nested dotdot", {{TarEntry::kDir, "a"}, {TarEntry::kFile, "a/../../evil", "x"}}},
      {"symlink escape", {{TarEntry::kSymlink, "link", "", canary.string()}, {TarEntry::kFile, "link/evil", "x"}}},
      {"relative symlink escape", {{TarEntry::kSymlink, "up", "", "../../../../../../.."}, {TarEntry::kFile, "up/tmp/evil", "x"}}},
      {"hardlink outside", {{TarEntry::kHardlink, "passwd", "", "../../../../etc/passwd"}}},
      {"absolute hardlink", {{TarEntry::kHardlink, "shadow", "", "/etc/shadow"}}},
  };
  for (const auto& c : cases) {
    auto r = import(make_tar(c.entries), "cap/hostile:v1");
    EXPECT_EQ(r.status, 400) << c.what << ": " << r.body;
    EXPECT_NE(r.body.find("escape"), std::string::npos) << c.what << ": " << r.body;
  }
  EXPECT_TRUE(std::filesystem::is_empty(canary));
  EXPECT_EQ(get_json("/v1.41/images/json").as_array().size(), 0u);
  // No blob, no snapshot, no temporary mount survived the refusals.
  EXPECT_TRUE(files_under(d_.data_root() + "/content/blobs").empty());
  auto info = get_json("/v1.41/info").as_object();
  for (const auto& pair : info.at("DriverStatus").as_array()) {
    if (pair.as_array()[0].as_string() == "Snapshots") {
      EXPECT_EQ(pair.as_array()[1].as_string(), "0");
    }
  }
  // (The exec-root itself is berthd's tmpfs: runtime state, not a leftover.)
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mounts, line)) {
    if (line.find(" " + d_.exec_root() + " ") != std::string::npos) continue;
    EXPECT_EQ(line.find(dir_.path().string()), std::string::npos) << line;
  }
}

TEST_F(ImagesTest, RemoveFollowsDockersRules) {
  auto r = import(busybox(), "busybox:local");
  std::string id = imported_id(r);
  ASSERT_EQ(d_.client().post("/v1.41/images/busybox:local/tag?repo=cap/bb&tag=v1", "", "")->status, 201);

  auto by_id = d_.client().request({"DELETE", "/v1.41/images/" + id.substr(7, 12)});
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->status, 409);
  EXPECT_EQ(json::parse(by_id->body).as_object().at("message").as_string(),
            "conflict: unable to delete " + id.substr(7, 12) +
                " (must be forced) - image is referenced in multiple repositories");

  auto untag = d_.client().request({"DELETE", "/v1.41/images/cap/bb:v1"});
  ASSERT_TRUE(untag);
  ASSERT_EQ(untag->status, 200);
  EXPECT_EQ(untag->body, "[{\"Untagged\":\"cap/bb:v1\"}]\n");

  auto last = d_.client().request({"DELETE", "/v1.41/images/busybox:local"});
  ASSERT_TRUE(last);
  ASSERT_EQ(last->status, 200);
  auto items = json::parse(last->body).as_array();
  ASSERT_EQ(items.size(), 3u);  // untagged, the image, its layer
  EXPECT_EQ(items[0].as_object().at("Untagged").as_string(), "busybox:local");
  EXPECT_EQ(items[1].as_object().at("Deleted").as_string(), id);

  auto missing = d_.client().request({"DELETE", "/v1.41/images/nosuch:img"});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body).as_object().at("message").as_string(), "No such image: nosuch:img");
}

TEST_F(ImagesTest, SharedLayerStaysUntilItsLastImageGoes) {
  std::string tar = busybox();
  auto a = import(tar, "one:v1");
  ASSERT_EQ(a.status, 200);
  // Same bytes, different change: another image on the same layer.
  auto b = import(tar, "two:v1", {"CMD [\"true\"]"});
  ASSERT_EQ(b.status, 200);
  ASSERT_NE(imported_id(a), imported_id(b));
  auto first = d_.client().request({"DELETE", "/v1.41/images/one:v1"});
  ASSERT_EQ(first->status, 200);
  EXPECT_EQ(json::parse(first->body).as_array().size(), 2u);  // untag + image; the layer stays
  auto inspect = get_json("/v1.41/images/two:v1/json");
  auto second = d_.client().request({"DELETE", "/v1.41/images/two:v1"});
  ASSERT_EQ(second->status, 200);
  EXPECT_EQ(json::parse(second->body).as_array().size(), 3u);
  EXPECT_TRUE(files_under(d_.data_root() + "/content/blobs").empty());
}

TEST_F(ImagesTest, PruneRemovesDanglingImagesOnly) {
  auto tagged = import(busybox(), "keep:v1");
  auto dangling = import(make_tar({{TarEntry::kFile, "x", "x"}}), "");
  ASSERT_EQ(dangling.status, 200);
  std::string dangling_id = imported_id(dangling);
  auto list = get_json("/v1.41/images/json?filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].as_object().at("Id").as_string(), dangling_id);
  auto pruned = d_.client().post("/v1.41/images/prune?filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D");
  ASSERT_TRUE(pruned);
  ASSERT_EQ(pruned->status, 200);
  auto body = json::parse(pruned->body).as_object();
  EXPECT_NE(json::serialize(body.at("ImagesDeleted")).find(dangling_id), std::string::npos);
  auto left = get_json("/v1.41/images/json").as_array();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].as_object().at("RepoTags").as_array()[0].as_string(), "keep:v1");
}

TEST_F(ImagesTest, ImagesSurviveARestartAndEventsAreRecorded) {
  auto r = import(busybox(), "busybox:local");
  std::string id = imported_id(r);
  auto events = d_.client().get("/v1.41/events?since=0&until=" + std::to_string(time(nullptr) + 1));
  ASSERT_TRUE(events);
  EXPECT_NE(events->body.find("\"Action\":\"import\""), std::string::npos) << events->body;
  EXPECT_NE(events->body.find("\"Action\":\"tag\""), std::string::npos) << events->body;

  EXPECT_EQ(d_.stop(), 0);
  ASSERT_TRUE(d_.start()) << d_.log();
  auto inspect = get_json("/v1.41/images/busybox:local/json").as_object();
  EXPECT_EQ(inspect.at("Id").as_string(), id);
}

}  // namespace
