#pragma once

#include "cli/app/command.hpp"

namespace berth::cli {

// Each command group adds its commands to the root (and to its management command).
void register_system_commands(Command& root);
void register_image_commands(Command& root);
void register_plugin_commands(Command& root);
void register_container_commands(Command& root);
void register_volume_commands(Command& root);
void register_network_commands(Command& root);
void register_context_commands(Command& root);
void register_registry_commands(Command& root);  // login, logout, search
std::unique_ptr<Command> make_search();
void register_ui_commands(Command& root);     // ui: the dashboard
// `system dial-stdio` (added to the system group by register_system_commands).
std::unique_ptr<Command> make_dial_stdio();

}  // namespace berth::cli
