// Internal to ImageService's files (image_service.cpp, image_list.cpp).
#pragma once

#include <string>

namespace berth::core::image::detail {

// A reference pinned by digest ("name@sha256:…"), not by tag.
inline bool is_digest_ref(const std::string& full_ref) { return full_ref.find('@') != std::string::npos; }

}  // namespace berth::core::image::detail
