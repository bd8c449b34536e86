#include "core/api/handlers/volume_handlers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>

#include "core/common/time.hpp"
#include "tests/unit/volume/volume_test_util.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

using volume::testing::Fixture;

class CaptureTransport final : public Transport {
 public:
  Result<size_t> read_some(char*, size_t) override { return size_t{0}; }
  Status write_all(const char* data, size_t size) override {
    out.append(data, size);
    return {};
  }
  void shutdown_write() override {}
  void shutdown_both() override {}
  bool peer_closed() override { return false; }
  bool peer_hung_up() override { return false; }
  int fd() const override { return -1; }
  std::string out;
};

class StringBody final : public BodySource {
 public:
  explicit StringBody(std::string data) : data_(std::move(data)), reader_(data_) {}
  bool has_body() const override { return !data_.empty(); }
  Result<size_t> read(char* buffer, size_t capacity) override {
    return reader_.read(buffer, capacity);
  }

 private:
  std::string data_;
  StringReader reader_;
};

struct Answer {
  int status = 0;
  std::string body;
  json::value json() const { return body.empty() ? json::value() : json::parse(body); }
  std::string message() const { return std::string(json().at("message").as_string()); }
};

struct Api {
  Fixture f;
  Router router;
  Api() { register_volume_routes(router, *f.vm); }

  Answer call(const std::string& method, const std::string& target, std::string body = {},
              const std::string& version = "1.41") {
    Request req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = parse_query(target.substr(q + 1));
    req.api_version = version;
    req.versioned = true;
    StringBody source(std::move(body));
    req.body_source = &source;
    const Handler* h = router.match(method, req.path, req.params);
    if (h == nullptr) return {404, "no route"};
    CaptureTransport t;
    ResponseWriter res(t, false, true);
    (*h)(req, res);
    Answer a;
    a.status = res.status();
    size_t end = t.out.find("\r\n\r\n");
    if (end != std::string::npos) a.body = t.out.substr(end + 4);
    return a;
  }
};

std::string filters(const std::string& json_text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "filters=";
  for (unsigned char c : json_text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

TEST(VolumeHandlers, CreateAnswersTheVolumeObject) {
  Api api;
  auto a = api.call("POST", "/volumes/create",
                    R"({"Driver":"local","Labels":{"capture":"1"},"Name":"capvol"})");
  ASSERT_EQ(a.status, 201) << a.body;
  auto v = api.f.vm->get("capvol");
  ASSERT_TRUE(v);
  // Key order and nulls as dockerd's capture.
  EXPECT_EQ(a.body, R"({"CreatedAt":")" + rfc3339_seconds(v->created_at) +
                        R"(","Driver":"local","Labels":{"capture":"1"},"Mountpoint":")" +
                        v->mountpoint + R"(","Name":"capvol","Options":null,"Scope":"local"})" +
                        "\n");
  auto anon = api.call("POST", "/volumes/create", R"({"Driver":"local"})");
  ASSERT_EQ(anon.status, 201);
  json::object o = anon.json().as_object();
  EXPECT_EQ(o.at("Name").as_string().size(), 64u);
  EXPECT_TRUE(o.at("Labels").is_null());

  auto opts =
      api.call("POST", "/volumes/create",
               R"({"Name":"t1","DriverOpts":{"type":"tmpfs","device":"tmpfs","o":"size=1m"}})");
  ASSERT_EQ(opts.status, 201);
  EXPECT_EQ(opts.json().at("Options").at("type").as_string(), "tmpfs");
}

TEST(VolumeHandlers, CreateErrors) {
  Api api;
  auto plugin = api.call("POST", "/volumes/create", R"({"Name":"x1","Driver":"flocker"})");
  EXPECT_EQ(plugin.status, 400);
  EXPECT_EQ(plugin.message(),
            "create x1: error looking up volume plugin flocker: plugin \"flocker\" not found");
  auto name = api.call("POST", "/volumes/create", R"({"Name":"a"})");
  EXPECT_EQ(name.status, 400);
  auto opt = api.call("POST", "/volumes/create", R"({"Name":"ab","DriverOpts":{"nope":"1"}})");
  EXPECT_EQ(opt.status, 400);
  EXPECT_EQ(opt.message(), "create ab: invalid option: \"nope\"");
  auto type = api.call("POST", "/volumes/create", R"({"Name":"ab","Labels":{"a":1}})");
  EXPECT_EQ(type.status, 400);
  auto notjson = api.call("POST", "/volumes/create", "{nope");
  EXPECT_EQ(notjson.status, 400);
  EXPECT_TRUE(api.f.vm->list().empty());
}

TEST(VolumeHandlers, InspectAndRemove) {
  Api api;
  ASSERT_TRUE(api.f.vm->create("capvol", {}, {}, false));
  auto got = api.call("GET", "/volumes/capvol");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json().at("Name").as_string(), "capvol");
  EXPECT_TRUE(got.json().at("Labels").is_null());
  EXPECT_FALSE(got.json().as_object().contains("UsageData"));

  auto missing = api.call("GET", "/volumes/nosuchvol");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.message(), "get nosuchvol: no such volume");

  api.f.vm->add_user("capvol", "ef922e529150");
  auto busy = api.call("DELETE", "/volumes/capvol");
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(busy.message(), "remove capvol: volume is in use - [ef922e529150]");
  api.f.vm->remove_user("capvol", "ef922e529150");
  auto removed = api.call("DELETE", "/volumes/capvol");
  EXPECT_EQ(removed.status, 204);
  EXPECT_TRUE(removed.body.empty());
  EXPECT_EQ(api.call("DELETE", "/volumes/capvol").status, 404);
  EXPECT_EQ(api.call("DELETE", "/volumes/capvol?force=1").status, 204);
}

TEST(VolumeHandlers, ListWithFilters) {
  Api api;
  ASSERT_TRUE(api.f.vm->create("web-data", {{"app", "web"}}, {}, false));
  ASSERT_TRUE(api.f.vm->create("db-data", {{"app", "db"}, {"tier", "x"}}, {}, false));
  api.f.vm->add_user("db-data", "c1");
  auto list_names = [&](const std::string& query) {
    auto a = api.call("GET", "/volumes" + query);
    EXPECT_EQ(a.status, 200) << a.body;
    std::vector<std::string> out;
    if (a.status != 200) return out;
    json::value body = a.json();
    EXPECT_TRUE(body.at("Warnings").is_null());
    for (const auto& v : body.at("Volumes").as_array()) {
      out.emplace_back(v.at("Name").as_string());
    }
    return out;
  };
  EXPECT_EQ(list_names(""), (std::vector<std::string>{"db-data", "web-data"}));
  EXPECT_EQ(list_names("?" + filters(R"({"name":{"web":true}})")),
            (std::vector<std::string>{"web-data"}));
  EXPECT_EQ(list_names("?" + filters(R"({"name":["^db"]})")),
            (std::vector<std::string>{"db-data"}));
  EXPECT_EQ(list_names("?" + filters(R"({"label":{"app=db":true}})")),
            (std::vector<std::string>{"db-data"}));
  EXPECT_EQ(list_names("?" + filters(R"({"label":{"app":true}})")),
            (std::vector<std::string>{"db-data", "web-data"}));
  EXPECT_EQ(list_names("?" + filters(R"({"dangling":{"true":true}})")),
            (std::vector<std::string>{"web-data"}));
  EXPECT_EQ(list_names("?" + filters(R"({"dangling":{"false":true}})")),
            (std::vector<std::string>{"db-data"}));
  EXPECT_EQ(list_names("?" + filters(R"({"driver":{"local":true}})")).size(), 2u);
  EXPECT_TRUE(list_names("?" + filters(R"({"driver":{"nfs":true}})")).empty());
  EXPECT_TRUE(list_names("?" + filters(R"({"name":{"[":true}})")).empty());

  auto bad = api.call("GET", "/volumes?" + filters(R"({"size":{"1":true}})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.message(), "invalid filter 'size'");
  auto empty = api.call("GET", "/volumes?" + filters(R"({"name":{"zzz":true}})"));
  EXPECT_EQ(empty.body, "{\"Volumes\":[],\"Warnings\":null}\n");
}

TEST(VolumeHandlers, PruneFollowsTheApiVersion) {
  Api api;
  auto seed = [&] {
    ASSERT_TRUE(api.f.vm->create("named", {}, {}, false));
    ASSERT_TRUE(api.f.vm->create("anon0123", {}, {}, true));
  };
  seed();
  // 1.41: every unused volume.
  auto old = api.call("POST", "/volumes/prune", "", "1.41");
  ASSERT_EQ(old.status, 200);
  EXPECT_EQ(old.json().at("VolumesDeleted").as_array().size(), 2u);
  EXPECT_TRUE(api.f.vm->list().empty());

  seed();
  auto modern = api.call("POST", "/volumes/prune", "", "1.43");
  ASSERT_EQ(modern.status, 200);
  EXPECT_EQ(modern.body, "{\"VolumesDeleted\":[\"anon0123\"],\"SpaceReclaimed\":0}\n");
  auto all = api.call("POST", "/volumes/prune?" + filters(R"({"all":{"true":true}})"), "", "1.43");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.body, "{\"VolumesDeleted\":[\"named\"],\"SpaceReclaimed\":0}\n");
  // Nothing to prune: [] as dockerd answers (capture volume_prune.txt).
  auto none = api.call("POST", "/volumes/prune", "", "1.41");
  EXPECT_EQ(none.body, "{\"VolumesDeleted\":[],\"SpaceReclaimed\":0}\n");
  auto bad = api.call("POST", "/volumes/prune?" + filters(R"({"dangling":{"true":true}})"));
  EXPECT_EQ(bad.status, 400);
}

TEST(VolumeHandlers, UsageDataForSystemDf) {
  volume::Volume v;
  v.name = "cfa1";
  v.mountpoint = "/var/lib/berth/volumes/cfa1/_data";
  v.created_at = 1795372717;  // 2026-11-22T18:38:37Z
  EXPECT_EQ(json::serialize(volume_json(v, std::make_pair<int64_t, int64_t>(0, 0))),
            R"({"CreatedAt":"2026-11-22T18:38:37Z","Driver":"local","Labels":null,)"
            R"("Mountpoint":"/var/lib/berth/volumes/cfa1/_data","Name":"cfa1","Options":null,)"
            R"("Scope":"local","UsageData":{"RefCount":0,"Size":0}})");
  auto with = volume_json(v, std::make_pair<int64_t, int64_t>(4096, 2));
  EXPECT_EQ(with.at("UsageData").at("Size").as_int64(), 4096);
  EXPECT_EQ(with.at("UsageData").at("RefCount").as_int64(), 2);
}

}  // namespace
}  // namespace berth::core::api
