// Versioned schema migrations. PRAGMA user_version holds the version a database is at;
// migrate() applies each newer migration in its own transaction and refuses a database
// written by a newer casekit.
#pragma once

#include "engine/store/database.hpp"

namespace casekit {

int latest_schema_version();
int schema_version(Database& db);
// Applies pending migrations up to `target` (default: the latest) and turns on the audit of
// every domain table (Database::audit). Idempotent.
void migrate(Database& db, int target = 0);

}  // namespace casekit
