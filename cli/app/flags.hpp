#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace berth::cli {

// A pflag-compatible flag parser. CLI11 cannot reproduce docker's habits (combined shorthands
// like `-it`, `-e=VAL`, flags interspersed with arguments for most commands but not after the
// image of `run`/`exec`, `--flag=false` on booleans), so this mirrors spf13/pflag instead.
enum class FlagKind { kBool, kString, kList, kInt, kDouble };

struct Flag {
  std::string name;
  char shorthand = 0;
  FlagKind kind = FlagKind::kString;
  std::string type_name;  // shown in help: "string", "list", "filter", "int", ...
  std::string usage;
  std::string default_text;  // shown as "(default X)" when non-empty
  bool hidden = false;
  bool changed = false;
  void* target = nullptr;
  // Optional hook run after each assignment (validation, derived values).
  std::function<void(const std::string&)> on_set;
};

class FlagSet {
 public:
  Flag& add_bool(std::string name, char shorthand, bool* dst, std::string usage);
  Flag& add_string(std::string name, char shorthand, std::string* dst, std::string usage,
                   std::string type_name = "string");
  Flag& add_list(std::string name, char shorthand, std::vector<std::string>* dst,
                 std::string usage, std::string type_name = "list");
  Flag& add_int(std::string name, char shorthand, long long* dst, std::string usage,
                std::string type_name = "int");
  Flag& add_double(std::string name, char shorthand, double* dst, std::string usage,
                   std::string type_name = "decimal");

  // Parses `args`; returns the positional arguments. With interspersed=false, parsing stops at
  // the first positional argument and everything after it is positional (docker run IMAGE CMD).
  // Throws UsageError with pflag's wording on unknown flags or missing values.
  std::vector<std::string> parse(const std::vector<std::string>& args, bool interspersed);

  bool changed(std::string_view name) const;
  const Flag* find(std::string_view name) const;
  Flag* find_short(char c);
  bool has_shorthand(char c) const;
  // The "Options:" block of the help text.
  std::string usages() const;
  bool empty() const;

 private:
  Flag& add(Flag f);
  void set(Flag& f, const std::string& value);
  std::vector<std::unique_ptr<Flag>> flags_;
};

}  // namespace berth::cli
