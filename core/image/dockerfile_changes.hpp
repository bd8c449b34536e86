// `docker import --change` and `docker commit --change`: the Dockerfile instructions CMD,
// ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and WORKDIR applied to an
// image's config section.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::core::image {

// Applies one instruction line ("CMD [\"sh\"]", "ENV A=1 B=2", "EXPOSE 80/tcp") to `config`.
// Unknown or malformed instructions are kInvalidArgument and leave `config` unchanged.
Status apply_change(boost::json::object& config, std::string_view line);

}  // namespace berth::core::image
