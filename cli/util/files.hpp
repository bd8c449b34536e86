#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace berth::cli {

// The SDK's atomic, durable writer (berth/sdk/fs.hpp) in the CLI's error style: readers see the
// old content or the new one, never half of it. Throws std::runtime_error naming the path.
void write_file_atomic(const std::filesystem::path& path, const std::string& data, mode_t mode);
// The whole file, or nullopt when it does not exist; throws on other errors.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& path);
// The user's home directory: $HOME, else the password database.
std::string home_dir();

}  // namespace berth::cli
