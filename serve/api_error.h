// An error the API answers with: an HTTP status and a one-line message that names the field
// or setting at fault. Sent as {"error": "<message>"}.
#pragma once

#include <stdexcept>
#include <string>

namespace qkv {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

/// {"error": message} as JSON text (invalid UTF-8 in the message replaced, never thrown).
std::string error_json(const std::string& message);

}  // namespace qkv
