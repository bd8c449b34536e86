# The README's "Writing a driver" shows sdk/examples/network-acme/ as it is: its ```cmake and
# ```cpp blocks must equal CMakeLists.txt and acme_network.cpp, so the example a newcomer copies
# is the one the tests build and load.
#   cmake -DSOURCE_DIR=<tree> -P readme_example_check.cmake
file(READ ${SOURCE_DIR}/README.md readme)
string(FIND "${readme}" "## Writing a driver" start)
if(start EQUAL -1)
  message(FATAL_ERROR "README.md has no \"## Writing a driver\" section")
endif()
string(SUBSTRING "${readme}" ${start} -1 section)
foreach(pair "cmake;CMakeLists.txt" "cpp;acme_network.cpp")
  list(GET pair 0 lang)
  list(GET pair 1 file)
  string(FIND "${section}" "```${lang}\n" open)
  if(open EQUAL -1)
    message(FATAL_ERROR "README.md: no ```${lang} block in \"Writing a driver\"")
  endif()
  string(LENGTH "```${lang}\n" skip)
  math(EXPR body_start "${open} + ${skip}")
  string(SUBSTRING "${section}" ${body_start} -1 rest)
  string(FIND "${rest}" "```\n" close)
  string(SUBSTRING "${rest}" 0 ${close} block)
  file(READ ${SOURCE_DIR}/sdk/examples/network-acme/${file} expected)
  if(NOT block STREQUAL expected)
    message(FATAL_ERROR "README.md's ```${lang} block in \"Writing a driver\" differs from "
                        "sdk/examples/network-acme/${file}: copy the file into the README")
  endif()
endforeach()
message(STATUS "README example matches sdk/examples/network-acme")
