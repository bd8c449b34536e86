// The host's view of a registry transport through its C table: a table from a plugin built
// against ABI 2.0 (no search entry) answers search with kUnsupported instead of reading past its
// end, and a 2.1 table's answer comes back decoded.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "berth/sdk/host/plugin_library.hpp"

using namespace berth::sdk;

namespace {

class QuietLogger final : public Logger {
 public:
  bool enabled(LogLevel) const noexcept override { return false; }
  void write(LogLevel, std::string_view, const Field*, size_t) noexcept override {}
};

int g_driver = 0;
std::string g_last_query;

berth_status create(const berth_driver_init*, void** self) {
  *self = &g_driver;
  return BERTH_OK;
}
void destroy(void*) {}

void write(const berth_sink& sink, const std::string& text) { sink.write(sink.ctx, text.data(), text.size()); }

berth_status search(void*, const berth_call*, berth_str query, berth_sink* out) {
  g_last_query.assign(query.data, query.size);
  write(*out, R"([{"name":"team/busybox","description":"small","star_count":3,"is_official":true,"is_automated":false}])");
  return BERTH_OK;
}

berth_status refuse(void*, const berth_call* call, berth_str, berth_sink*) {
  write(call->error, "the registry has no search endpoint");
  return BERTH_ERR_UNSUPPORTED;
}

Result<std::unique_ptr<RegistryTransport>> make(const berth_registry_vtable& table) {
  static QuietLogger log;
  host::DriverDef def;
  def.kind = BERTH_KIND_REGISTRY;
  def.name = "fake";
  def.vtable = &table;
  def.create = &create;
  def.destroy = &destroy;
  host::HostInit init;
  init.driver_id = "registry.fake";
  init.log = &log;
  return host::create_registry(def, init);
}

TEST(RegistryProxy, AnAbi20TableHasNoSearchAndSaysSo) {
  berth_registry_vtable table{};
  table.struct_size = offsetof(berth_registry_vtable, search);  // what a 2.0 plugin filled in
  table.search = &search;  // beyond struct_size: must never be called
  auto transport = make(table);
  ASSERT_TRUE(transport) << transport.error().message;
  Context ctx;
  auto r = (*transport)->search(ctx, SearchQuery{"127.0.0.1:5000", true, "busybox", 25});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(r.error().message.find("search is not supported"), std::string::npos) << r.error().message;
}

TEST(RegistryProxy, SearchCrossesTheTableBothWays) {
  berth_registry_vtable table{};
  table.struct_size = sizeof table;
  table.search = &search;
  auto transport = make(table);
  ASSERT_TRUE(transport) << transport.error().message;
  Context ctx;
  auto r = (*transport)->search(ctx, SearchQuery{"127.0.0.1:5000", true, "busy", 10});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "team/busybox");
  EXPECT_EQ((*r)[0].description, "small");
  EXPECT_EQ((*r)[0].star_count, 3);
  EXPECT_TRUE((*r)[0].is_official);
  EXPECT_NE(g_last_query.find(R"("term":"busy")"), std::string::npos) << g_last_query;
  EXPECT_NE(g_last_query.find(R"("limit":10)"), std::string::npos) << g_last_query;

  table.search = &refuse;
  auto refused = (*transport)->search(ctx, SearchQuery{"127.0.0.1:5000", true, "busy", 10});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(refused.error().message.find("no search endpoint"), std::string::npos)
      << refused.error().message;
}

}  // namespace
