// The dashboard's files, embedded in the berth binary at build time (cli/ui/web/ and Debian's
// node-xterm): `berth ui` needs no network and no install beyond the binary.
#pragma once

#include <string_view>

namespace berth::cli::ui {

struct Asset {
  std::string_view name;  // "index.html", "app.js", ...
  std::string_view content_type;
  std::string_view body;
};

// nullptr when there is no such file.
const Asset* find_asset(std::string_view name);

}  // namespace berth::cli::ui
