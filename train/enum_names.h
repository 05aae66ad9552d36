// Names of the config enums, as spelled in the experiment YAML. Each enum in model/config.h,
// data/config.h and train/config.h comes with one table, `enum_names(E)` next to its
// definition (found by argument-dependent lookup); these helpers read that table, so the
// config reader, writer and log lines all use the same spelling.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace qkv {

/// The YAML name of `value`, e.g. enum_name(ScheduleKind::kNoam) == "noam".
template <class Enum>
const char* enum_name(Enum value) {
  for (const auto& [candidate, name] : enum_names(value)) {
    if (candidate == value) return name;
  }
  // Only reachable if a table misses a value: a programming error, not a config error.
  throw std::logic_error("enum_name: value missing from its enum_names table");
}

/// The value named `name`, or nothing if no value has that name (names are case-sensitive).
template <class Enum>
std::optional<Enum> enum_from_name(std::string_view name) {
  for (const auto& [value, candidate] : enum_names(Enum{})) {
    if (name == candidate) return value;
  }
  return std::nullopt;
}

/// The valid names, comma-separated in table order: "noam, constant, linear".
template <class Enum>
std::string enum_name_list() {
  std::string list;
  for (const auto& entry : enum_names(Enum{})) {
    list += (list.empty() ? "" : ", ") + std::string(entry.second);
  }
  return list;
}

}  // namespace qkv
