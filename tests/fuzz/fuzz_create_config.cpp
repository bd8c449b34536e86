// container create's body: dockerd's decoding rules (any-case keys, types), then the whole
// create-config policy against an image config. Any input is refused cleanly or prepared; the
// prepared result is always a JSON-serializable record.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/api/body_schema.hpp"
#include "core/container/create_config.hpp"
#include "core/image/image_config.hpp"

using namespace berth::core;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto image = image::ImageConfig::parse(
      R"({"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"],)"
      R"("Volumes":{"/data":{}},"ExposedPorts":{"80/tcp":{}},"Labels":{"a":"b"}},)"
      R"("rootfs":{"type":"layers","diff_ids":[]}})");
  if (!image) __builtin_trap();
  boost::json::error_code ec;
  auto body = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;
  if (!api::normalize_body(body, api::container_create_schema())) return 0;
  container::CreateDefaults defaults{2, 10 << 20, 3, false};
  auto prepared = container::prepare_create(body, *image, "0123456789ab", "busybox", defaults);
  if (prepared) {
    (void)boost::json::serialize(prepared->config);
    (void)boost::json::serialize(prepared->host_config);
  }
  return 0;
}
