#include "registry/auth/access.hpp"

#include <algorithm>

namespace berth::registry::auth {
namespace json = boost::json;

namespace {

bool matches_repository(const std::string& pattern, const std::string& repository) {
  if (pattern == "*") return true;
  if (pattern.ends_with("/*")) {
    return repository.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return pattern == repository;
}

bool matches_user(const std::vector<std::string>& users, const std::string& user) {
  for (const auto& u : users) {
    if (user.empty() ? u == "anonymous" : (u == "*" || u == user)) return true;
  }
  return false;
}

}  // namespace

Result<AccessRules> AccessRules::from_json(const json::value& value, const std::string& key) {
  auto bad = [&](size_t i, const std::string& message) {
    return make_error(ErrorCode::kInvalidArgument,
                      key + "[" + std::to_string(i) + "]: " + message);
  };
  if (!value.is_array()) {
    return make_error(ErrorCode::kInvalidArgument, key + ": must be an array of rules");
  }
  AccessRules rules;
  size_t i = 0;
  for (const auto& item : value.get_array()) {
    if (!item.is_object()) return bad(i, "must be an object {repository, users, actions}");
    const auto& o = item.get_object();
    AccessRule rule;
    const json::value* repo = o.if_contains("repository");
    if (!repo || !repo->is_string() || repo->get_string().empty()) {
      return bad(i, "repository: a name, \"prefix/*\" or \"*\" is required");
    }
    rule.repository = std::string(repo->get_string());
    const json::value* users = o.if_contains("users");
    if (!users || !users->is_array() || users->get_array().empty()) {
      return bad(i, "users: a non-empty array of user names, \"*\" or \"anonymous\"");
    }
    for (const auto& u : users->get_array()) {
      if (!u.is_string()) return bad(i, "users: entries must be strings");
      rule.users.emplace_back(u.get_string());
    }
    const json::value* actions = o.if_contains("actions");
    if (!actions || !actions->is_array()) {
      return bad(i, "actions: an array of \"pull\", \"push\", \"delete\"");
    }
    for (const auto& a : actions->get_array()) {
      std::string action = a.is_string() ? std::string(a.get_string()) : "";
      if (action != "pull" && action != "push" && action != "delete") {
        return bad(i, "actions: \"" + action + "\" is not one of pull, push, delete");
      }
      rule.actions.insert(action);
    }
    for (const auto& k : o) {
      if (k.key() != "repository" && k.key() != "users" && k.key() != "actions") {
        return bad(i, std::string(k.key()) + ": unknown key (known: repository, users, actions)");
      }
    }
    rules.add(std::move(rule));
    ++i;
  }
  return rules;
}

std::set<std::string> AccessRules::allowed(const std::string& user,
                                           const std::string& repository) const {
  if (rules_.empty()) {
    if (user.empty()) return {};
    return {"pull", "push", "delete"};
  }
  std::set<std::string> out;
  for (const auto& rule : rules_) {
    if (matches_repository(rule.repository, repository) && matches_user(rule.users, user)) {
      out.insert(rule.actions.begin(), rule.actions.end());
    }
  }
  return out;
}

}  // namespace berth::registry::auth
