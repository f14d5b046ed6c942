#include "engine/core/error.hpp"

namespace casekit {

const char* code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_argument:
      return "BAD_ARGUMENT";
    case ErrorCode::not_found:
      return "NOT_FOUND";
    case ErrorCode::invalid:
      return "INVALID";
    case ErrorCode::forbidden:
      return "FORBIDDEN";
    case ErrorCode::conflict:
      return "CONFLICT";
    case ErrorCode::storage:
      return "STORAGE";
    case ErrorCode::script:
      return "SCRIPT";
    case ErrorCode::limit:
      return "LIMIT";
    case ErrorCode::too_many:
      return "TOO_MANY";
    case ErrorCode::template_error:
      return "TEMPLATE";
    case ErrorCode::io:
      return "IO";
    case ErrorCode::internal:
      return "INTERNAL";
  }
  return "INTERNAL";
}

}  // namespace casekit
