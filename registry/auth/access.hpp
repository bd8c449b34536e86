// Who may do what on which repository. Actions are "pull", "push", "delete". A rule matches
// repositories by name ("team/app"), prefix ("team/*") or "*", and names users, "*" (any
// authenticated user) or "anonymous". A request's actions are the union of the matching rules.
// With no rules at all: authenticated users may do everything, anonymous users nothing.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "core/common/result.hpp"

namespace berth::registry::auth {

struct AccessRule {
  std::string repository;  // "name", "prefix/*" or "*"
  std::vector<std::string> users;  // user names, "*" or "anonymous"
  std::set<std::string> actions;
};

class AccessRules {
 public:
  // From the config's "auth.access" array; errors name the entry and field.
  static Result<AccessRules> from_json(const boost::json::value& value, const std::string& key);

  // `user` empty: anonymous.
  std::set<std::string> allowed(const std::string& user, const std::string& repository) const;

  void add(AccessRule rule) { rules_.push_back(std::move(rule)); }
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<AccessRule> rules_;
};

}  // namespace berth::registry::auth
