# berth_add_plugin(<name> SOURCES <files...> [LIBRARIES <libs...>] [OUTPUT_DIRECTORY <dir>])
#
# Builds the plugin module berth-<name>.so with the flags that keep it self-contained: hidden
# visibility (only the entry alias is exported), its dependencies' symbols not re-exported, and
# no undefined symbols left for the daemon to resolve.
function(berth_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "berth_add_plugin(${name}): SOURCES is required")
  endif()
  set(target berth-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE berth::sdk_plugin ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME berth-${name}
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  # Export the entry alias and nothing else: template instances or typeinfo that headers force
  # to default visibility would otherwise be visible to (and could bind with) other plugins.
  set(version_script ${CMAKE_CURRENT_BINARY_DIR}/berth-plugin-exports.map)
  if(NOT EXISTS ${version_script})
    file(WRITE ${version_script} "{ global: berth_plugin_abi_v*; local: *; };\n")
  endif()
  target_link_options(${target} PRIVATE "LINKER:--exclude-libs,ALL" "LINKER:-z,defs"
                      "LINKER:--version-script=${version_script}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${version_script})
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED BERTH_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${BERTH_PLUGIN_OUTPUT_DIR})
  endif()
  if(DEFINED BERTH_PLUGIN_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${BERTH_PLUGIN_INSTALL_DIR} COMPONENT runtime)
  endif()
endfunction()
