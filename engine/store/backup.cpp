#include "engine/store/backup.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "engine/core/error.hpp"
#include "engine/store/schema.hpp"

namespace casekit {
namespace {

namespace fs = std::filesystem;

// A name beside `file` for writing it whole before it takes its place.
fs::path staging(const fs::path& file) {
  return fs::path(file.string() + ".partial");
}

void remove_quietly(const fs::path& file) {
  std::error_code ignored;
  fs::remove(file, ignored);
}

// The serve lock's file beside the database. Not the database file itself: closing any
// descriptor of a file drops every POSIX lock the process holds on it, SQLite's included.
fs::path lock_file(const fs::path& database) {
  return fs::path(database.string() + ".serve-lock");
}

// A descriptor of the lock file (made if `create`), or -1.
int open_for_lock(const fs::path& database, bool create) {
  return create ? ::open(lock_file(database).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)
                : ::open(lock_file(database).c_str(), O_RDONLY | O_CLOEXEC);
}

}  // namespace

std::uintmax_t backup_database(Database& db, const fs::path& file) {
  if (fs::exists(file)) {
    throw Error(ErrorCode::conflict, file.string() + " exists; name a new file for the backup");
  }
  const fs::path partial = staging(file);
  remove_quietly(partial);
  try {
    db.prepare("VACUUM INTO ?1").bind_all(partial.string()).run();
  } catch (...) {
    remove_quietly(partial);
    throw;
  }
  fs::rename(partial, file);
  return fs::file_size(file);
}

BackupInfo check_backup(const fs::path& file) {
  if (!fs::is_regular_file(file))
    throw Error(ErrorCode::not_found, "no backup at " + file.string());
  BackupInfo info;
  info.bytes = fs::file_size(file);
  try {
    Database copy(file, OpenMode::existing);
    auto st = copy.prepare("PRAGMA integrity_check");
    st.step();
    if (st.text(0) != "ok") {
      throw Error(ErrorCode::invalid, file.string() + " is damaged: " + st.text(0));
    }
    info.schema_version = schema_version(copy);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::invalid) throw;
    throw Error(ErrorCode::invalid, file.string() + " is not a casekit database: " + e.what());
  }
  if (info.schema_version < 1) {
    throw Error(ErrorCode::invalid, file.string() + " is not a casekit database (no schema)");
  }
  if (info.schema_version > latest_schema_version()) {
    throw Error(ErrorCode::invalid, file.string() + " was written by a newer casekit (schema " +
                                        std::to_string(info.schema_version) + ", this one knows " +
                                        std::to_string(latest_schema_version()) + ")");
  }
  return info;
}

BackupInfo restore_database(const fs::path& file, const fs::path& target, bool force) {
  const BackupInfo info = check_backup(file);
  if (ServeLock::held(target)) {
    throw Error(ErrorCode::conflict, "a casekit serve is running on " + target.string() +
                                         "; stop it before restoring over its database");
  }
  if (fs::exists(target) && !force) {
    throw Error(ErrorCode::conflict, target.string() +
                                         " exists; restore over it with --force (back it up "
                                         "first: casekit backup FILE)");
  }
  const fs::path partial = staging(target);
  remove_quietly(partial);
  fs::copy_file(file, partial);
  // The old database's write-ahead log would be replayed into the new file: it goes first.
  for (const char* suffix : {"-wal", "-shm"}) remove_quietly(fs::path(target.string() + suffix));
  fs::rename(partial, target);
  return info;
}

ServeLock::ServeLock(const fs::path& database) : fd_(open_for_lock(database, true)) {
  if (fd_ < 0) {
    throw Error(ErrorCode::io, "cannot open " + lock_file(database).string() + " to lock it");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw Error(ErrorCode::conflict, "another casekit serve is already running on " +
                                         database.string() + "; only one may run per database");
  }
}

ServeLock::~ServeLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

bool ServeLock::held(const fs::path& database) {
  const int fd = open_for_lock(database, false);
  if (fd < 0) return false;  // never served
  const bool taken = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);  // and with it the lock this check may have taken
  return taken;
}

}  // namespace casekit
