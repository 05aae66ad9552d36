// Hand-made pickle bytes for the checkpoint pickle and archive tests.
#pragma once

#include <string>

namespace qkv::test {

/// A protocol-2 pickle: the PROTO opcode followed by `body`.
inline std::string pickle(const std::string& body) { return std::string("\x80\x02", 2) + body; }

/// ("storage", torch.<type>, key, "cpu", numel) BINPERSID, as LibTorch's pickler writes it.
inline std::string persistent_id(const std::string& type, const std::string& key, char numel) {
  const auto text = [](const std::string& s) {
    return "X" + std::string(1, static_cast<char>(s.size())) + std::string(3, '\0') + s;
  };
  return "(" + text("storage") + "ctorch\n" + type + "\n" + text(key) + text("cpu") + "K" +
         std::string(1, numel) + "tQ";
}

}  // namespace qkv::test
