# Docker's default seccomp profile (included from core/container/CMakeLists.txt; paths are
# relative to this file so it can be included from anywhere, the unit tests included).
if(NOT TARGET berth_core_seccomp_profile)
  add_library(berth_core_seccomp_profile STATIC ${CMAKE_CURRENT_LIST_DIR}/seccomp_default.cpp)
  target_link_libraries(berth_core_seccomp_profile
    PUBLIC Boost::json berth_core_common
    PRIVATE berth_warnings)
endif()
