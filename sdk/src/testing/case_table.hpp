// What the SDK's conformance suites share (internal to sdk/src/testing): a suite is a table of
// named cases, each a function of the suite's fixture; registering it makes one GoogleTest test
// a case, named `<suite_name>.<case>`, under the vendor's factory.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace berth::sdk::testing::suite {

template <class Harness>
struct Case {
  const char* name;
  void (*fn)(Harness&);
};

template <class Harness, class Registration, size_t N>
bool register_cases(const char* suite_name, std::shared_ptr<const Registration> registration,
                    const Case<Harness> (&cases)[N], const char* file, int line) {
  for (const auto& c : cases) {
    ::testing::RegisterTest(
        suite_name, c.name, nullptr, nullptr, file, line,
        [registration, fn = c.fn]() -> Harness* { return new Harness(registration, fn); });
  }
  return true;
}

template <class Harness, size_t N>
std::vector<std::string> case_names(const Case<Harness> (&cases)[N]) {
  std::vector<std::string> out;
  for (const auto& c : cases) out.emplace_back(c.name);
  return out;
}

}  // namespace berth::sdk::testing::suite
