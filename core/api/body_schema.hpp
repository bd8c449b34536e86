// Request bodies as dockerd's Go decoder reads them: object keys match struct fields in any case
// ("detachKeys", "CPURealtimePeriod" reach DetachKeys, CpuRealtimePeriod), unknown keys are
// ignored, null is "unset", and a value of the wrong type is refused with the field's path and
// the type expected, before anything looks at it. After normalize_body() a handler may read the
// canonical keys with the json_fields readers and never meet a type it did not expect (no
// "not exact" from Boost.JSON for a Memory of 1.5). Pure: no I/O.
#pragma once

#include <boost/json/value.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::api {

struct BodyField;

// A JSON object's known fields (Go struct), with the Go type name for messages.
struct BodySchema {
  std::string_view go_name;
  std::vector<BodyField> fields;
};

enum class BodyKind {
  kAny,         // left as it is (checked by whoever reads it)
  kString,
  kBool,
  kInt64,       // an integer literal within int64
  kInt32,       // Go int on the API's 64-bit hosts is int64; int32 where the API says so
  kUint16,
  kUint32,
  kUint64,
  kStrings,     // []string
  kStrSlice,    // Docker's strslice: a string or []string (Cmd, Entrypoint)
  kStringMap,   // map[string]string
  kEmptyMap,    // map[string]struct{} (ExposedPorts, Volumes): any object
  kObject,      // a nested struct: `schema`
  kObjects,     // []struct: `schema`
  kObjectMap,   // map[string]struct: `schema`
};

struct BodyField {
  std::string_view name;  // canonical (Go's) name
  BodyKind kind;
  const BodySchema* schema = nullptr;
};

// Renames keys of `value` (an object, or null for an empty body) to their canonical case and
// checks every known field's type, recursively. kInvalidArgument names the path
// ("json: cannot unmarshal string into Go struct field HostConfig.Memory of type int64").
Status normalize_body(boost::json::value& value, const BodySchema& schema);

// The bodies berthd reads.
const BodySchema& container_create_schema();  // Config + HostConfig + NetworkingConfig
const BodySchema& host_config_schema();       // POST /containers/{id}/update (resources)
const BodySchema& exec_create_schema();
const BodySchema& exec_start_schema();

}  // namespace berth::core::api
