#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <vector>

#include "cli/app/command.hpp"
#include "cli/app/context.hpp"

namespace berth::cli {

// One row per (repository, tag[, digest]) of an /images/json answer, with the fields docker's
// image formatter exposes (Repository, Tag, ID, Digest, CreatedSince, CreatedAt, Size, ...).
std::vector<boost::json::value> image_rows(const boost::json::array& images, bool trunc,
                                           bool digests_needed, bool show_digests);
const boost::json::object& image_header();

// POST /images/create?fromImage=... rendering the progress stream to `fd`. Throws
// JsonMessageError when the stream reports an error.
void pull_image(Context& ctx, const std::string& image, const std::string& platform, int fd,
                bool quiet = false, bool all_tags = false);

// `import`, `save`, `load` (image_archive.cpp).
std::unique_ptr<Command> make_import();
std::unique_ptr<Command> make_save();
std::unique_ptr<Command> make_load();

// `build` / `image build` (build.cpp).
std::unique_ptr<Command> make_build_command();
// `builder prune` (build.cpp).
std::unique_ptr<Command> make_builder_command();

}  // namespace berth::cli
