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
// The tables whose changes are audited, and their columns and keys, from the live schema:
// every table but the audit's own, settings, the durable runtime's bookkeeping, secrets and
// rows derived by triggers (schema.cpp says why each is left out).
std::vector<AuditedTable> audited_tables(Database& db);

}  // namespace casekit
