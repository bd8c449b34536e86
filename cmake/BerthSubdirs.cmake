# berth_add_subdirectories(): add_subdirectory() for every child directory that has a
# CMakeLists.txt, so test areas and plugins plug in without editing a shared list.
macro(berth_add_subdirectories)
  file(GLOB _berth_children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
       ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT _berth_children)
  foreach(_berth_child IN LISTS _berth_children)
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${_berth_child}
       AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${_berth_child}/CMakeLists.txt)
      add_subdirectory(${_berth_child})
    endif()
  endforeach()
endmacro()
