// Parsing and checking head masks (see head_mask.h).
#include "model/head_mask.h"

#include <algorithm>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace qkv {
namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string> split(const std::string& text, char separator) {
  if (text.empty()) return {""};  // one empty part, so that "site:" is an error, not no heads
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(trim(part));
  if (!text.empty() && text.back() == separator) parts.emplace_back();  // getline drops it
  return parts;
}

// A whole non-negative decimal number, or nothing (no sign, no spaces, no overflow).
std::optional<int64_t> parse_index(const std::string& text) {
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(text);
}

// A site name split into its parts: "decoder.2.cross_attn" -> {"decoder", 2, "cross_attn"}.
struct SiteName {
  std::string stack;
  int64_t layer = 0;
  std::string kind;
};

constexpr const char* kSiteForms =
    "sites are encoder.<l>.self_attn, decoder.<l>.self_attn and decoder.<l>.cross_attn";

SiteName parse_site(const std::string& site) {
  const auto parts = split(site, '.');
  const auto layer = parts.size() == 3 ? parse_index(parts[1]) : std::nullopt;
  const bool known_kind =
      parts.size() == 3 &&
      (parts[2] == "self_attn" || (parts[0] == "decoder" && parts[2] == "cross_attn"));
  if (!layer || (parts[0] != "encoder" && parts[0] != "decoder") || !known_kind) {
    throw std::invalid_argument("unknown attention site '" + site + "' (" + kSiteForms + ")");
  }
  return {parts[0], *layer, parts[2]};
}

// "decoder.2.cross_attn:1,3" into `mask`.
void parse_part(const std::string& part, HeadMask& mask) {
  const auto colon = part.find(':');
  if (part.empty()) throw std::invalid_argument("empty entry (expected SITE:HEAD,HEAD;...)");
  if (colon == std::string::npos) {
    throw std::invalid_argument("'" + part + "' has no ':HEADS' (expected SITE:HEAD,HEAD)");
  }
  const std::string site = trim(part.substr(0, colon));
  parse_site(site);
  auto& heads = mask.heads_off[site];
  for (const auto& head : split(part.substr(colon + 1), ',')) {
    const auto index = parse_index(head);
    if (!index) {
      throw std::invalid_argument(site + ": head '" + head + "' is not a head number (0, 1, ...)");
    }
    heads.push_back(*index);
  }
  std::sort(heads.begin(), heads.end());
  heads.erase(std::unique(heads.begin(), heads.end()), heads.end());
}

}  // namespace

HeadMask parse_head_mask(const std::string& spec) {
  if (trim(spec).empty()) {
    throw std::invalid_argument("empty head mask (expected e.g. decoder.0.cross_attn:1,3)");
  }
  HeadMask mask;
  for (const auto& part : split(spec, ';')) parse_part(part, mask);
  return mask;
}

void check_head_mask(const HeadMask& mask,
                     int64_t encoder_layers,
                     int64_t decoder_layers,
                     int64_t num_heads) {
  for (const auto& [site, heads] : mask.heads_off) {
    const SiteName name = parse_site(site);
    const int64_t layers = name.stack == "encoder" ? encoder_layers : decoder_layers;
    if (name.layer >= layers) {
      throw std::invalid_argument("unknown attention site '" + site + "': the " + name.stack +
                                  " has layers 0.." + std::to_string(layers - 1));
    }
    for (int64_t head : heads) {
      if (head >= num_heads) {
        throw std::invalid_argument(site + ": head " + std::to_string(head) +
                                    " is out of range: this model has heads 0.." +
                                    std::to_string(num_heads - 1));
      }
    }
  }
}

}  // namespace qkv
