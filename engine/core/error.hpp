// Engine errors carry a code so that callers (the CLI, the Lua boundary) can tell a
// programmer mistake from a missing row from a broken database without parsing text.
#pragma once

#include <stdexcept>
#include <string>

namespace casekit {

enum class ErrorCode {
  bad_argument,  // a caller passed something malformed
  not_found,     // a wrong id or reference
  invalid,       // well-formed but not allowed by the domain rules
  forbidden,     // allowed, but not for this user: their role, team or part in it
  conflict,      // would duplicate or contradict existing data
  storage,       // the database refused: locked, corrupt, full
  script,        // a Lua script failed
  limit,         // a sandbox limit was hit
  too_many,      // too many requests of this kind from this user just now: try again later
  template_error,
  io,
  internal,
};

// "BAD_ARGUMENT", "NOT_FOUND", ...: stable strings that scripts and JSON output see.
const char* code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  // A refusal of one named input (a work item's field): a page shows it at that field.
  Error(ErrorCode code, const std::string& message, std::string field)
      : std::runtime_error(message), code_(code), field_(std::move(field)) {}
  ErrorCode code() const { return code_; }
  const std::string& field() const { return field_; }

 private:
  ErrorCode code_;
  std::string field_;
};

}  // namespace casekit
