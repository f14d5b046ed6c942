// Backups of a live database, restoring one, and the lock that lets only one `casekit serve`
// run on a database.
//
// A backup is SQLite's VACUUM INTO: one read transaction, so it is a consistent snapshot
// whatever `serve` writes meanwhile (WAL lets readers run beside the writer), compacted, and
// never half-written where it lands (it is written beside the target and renamed).
#pragma once

#include <filesystem>
#include <memory>

#include "engine/store/database.hpp"

namespace casekit {

// Writes a consistent copy of `db` to `file`, which must not exist yet. Returns its size.
std::uintmax_t backup_database(Database& db, const std::filesystem::path& file);

// What a backup file holds, once it has been checked: a whole SQLite database (integrity
// check) at a schema version this build can open.
struct BackupInfo {
  int schema_version = 0;
  std::uintmax_t bytes = 0;
};
BackupInfo check_backup(const std::filesystem::path& file);

// Replaces the database at `target` with the backup `file`, checked first. Refused while a
// `casekit serve` holds the database, and when `target` exists unless `force`. The copy is
// written beside the target and renamed over it, so the target is the old database or the
// new one, never a mixture; the old database's WAL files go with it.
BackupInfo restore_database(const std::filesystem::path& file, const std::filesystem::path& target,
                            bool force);

// Held by `casekit serve` for as long as it runs: a second serve on the same database finds
// it taken and stops with a clear message. An advisory lock (flock) on DATABASE.serve-lock
// beside it (never on the database file, whose SQLite locks a stray close would drop),
// released by the kernel when the process exits however it exits: a crash leaves no stale
// lock, and the file left behind means nothing on its own.
class ServeLock {
 public:
  // Takes the lock, or throws Error(conflict) when another process holds it.
  explicit ServeLock(const std::filesystem::path& database);
  ~ServeLock();
  ServeLock(const ServeLock&) = delete;
  ServeLock& operator=(const ServeLock&) = delete;

  // Whether some process holds the lock on `database` now.
  static bool held(const std::filesystem::path& database);

 private:
  int fd_ = -1;
};

}  // namespace casekit
