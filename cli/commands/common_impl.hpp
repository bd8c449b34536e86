#pragma once

#include "cli/client/api_client.hpp"

namespace berth::cli {

template <class Fn>
std::vector<std::string> for_each_name(const std::vector<std::string>& names, Fn fn,
                                       std::vector<std::string>* failed) {
  std::vector<std::string> ok;
  for (auto& n : names) {
    try {
      fn(n);
      ok.push_back(n);
    } catch (const ConnectError&) {
      throw;
    } catch (const std::exception& e) {
      std::cout.flush();
      std::cerr << e.what() << "\n";
      if (failed) failed->push_back(n);
    }
  }
  return ok;
}

}  // namespace berth::cli
