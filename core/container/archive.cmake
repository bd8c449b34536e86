# The filesystem side of docker cp / export (included from core/container/CMakeLists.txt; paths
# are relative to this file so it can be included from anywhere).
if(NOT TARGET berth_core_archive)
  add_library(berth_core_archive STATIC ${CMAKE_CURRENT_LIST_DIR}/archive.cpp)
  target_link_libraries(berth_core_archive
    PUBLIC berth_core_common
    PRIVATE berth_core_layer berth_archive berth_warnings)
endif()
