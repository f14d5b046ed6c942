// GET /healthz: the process answers. GET /readyz: it can serve: the database answers at the
// schema this build expects, the loop keeps time, and the server is not stopping.
#include <spdlog/spdlog.h>

#include "engine/http/api.hpp"
#include "engine/store/schema.hpp"

namespace casekit::http {
namespace {

Response ready(Api& api) {
  if (api.draining()) return error_response(503, "STOPPING", "the server is stopping");
  if (api.loop.stalled()) {
    return error_response(503, "STALLED", "the server's loop is running late");
  }
  try {
    if (schema_version(api.engine.db) != latest_schema_version()) {
      return error_response(503, "SCHEMA", "the database is not at this build's schema");
    }
  } catch (const std::exception& e) {
    spdlog::error("readyz: {}", e.what());
    return error_response(503, "STORAGE", "the database does not answer");
  }
  return json_response({{"status", "ready"}});
}

}  // namespace

void add_health_routes(Router& router, Api& api) {
  router.add({"GET",
              "/healthz",
              Access::anyone,
              "The process is up",
              [](Call&) {
                return json_response({{"status", "ok"}});
              },
              {}});
  router.add({"GET",
              "/readyz",
              Access::anyone,
              "The database answers at the current schema, the loop keeps time and the server "
              "is not stopping",
              [&api](Call&) { return ready(api); },
              {}});
}

}  // namespace casekit::http
