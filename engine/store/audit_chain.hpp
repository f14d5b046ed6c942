// The audit's hash chain: each change set carries the SHA-256 of the hash of the set before
// it and of its own content (who, when, and each change in order), so a change altered,
// removed or inserted past the engine (with sqlite3, say) no longer matches where it was
// made. Without a secret anyone who can rewrite the file can rewrite the chain too, so the
// last hash is worth keeping somewhere else: `casekit audit verify` prints it. OpenSSL's
// SHA-256 uses the CPU's SHA instructions: libsodium's portable one was an eighth of an
// import's instructions.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace casekit {

class Database;

class AuditSetHash {
 public:
  // `previous`: the hash (hex) of the set before, empty for the first.
  AuditSetHash(std::string_view previous, std::string_view at, std::string_view actor);
  // One change of the set, in order. `entity_id` is as audit_changes holds it: "i:42",
  // "t:name", or "n" (AuditSetHash::integer_id and text_id make them).
  // `columns`: the shape's columns (a JSON list) that a row kept as a list of values follows;
  // empty, or "[]", for a change that names its columns.
  void change(std::string_view entity, std::string_view entity_id, std::string_view action,
              const std::optional<std::string>& before, const std::optional<std::string>& after,
              std::string_view why, std::string_view columns = {});
  std::string hex();

  static std::string integer_id(std::int64_t id) { return "i:" + std::to_string(id); }
  static std::string text_id(std::string_view id) { return "t:" + std::string(id); }

 private:
  void* context() const { return context_.get(); }
  // Each field is written with its length first, so no two contents hash alike by moving
  // text from one field into the next.
  void field(std::string_view text, std::string_view prefix = {});
  struct Free {
    void operator()(void* context) const;
  };
  std::unique_ptr<void, Free> context_;  // OpenSSL's EVP_MD_CTX
};

// Where a walk of the chain stopped: the last set and the last change it read.
struct AuditCursor {
  std::int64_t set = 0;
  std::int64_t change = 0;
  std::string text() const;  // "SET.CHANGE", as the HTTP route's cursor
  static std::optional<AuditCursor> parse(std::string_view text);
};

// The SHA-256 of a text, in hex: what content kept once by its hash is named by (a letter
// template's version, say).
std::string sha256_hex(std::string_view text);

// What `casekit audit verify` found.
struct AuditVerification {
  std::int64_t sets = 0;
  std::int64_t changes = 0;
  std::string head;  // the last set's hash
  // The first set that does not match its hash, and how (a change out of place names no
  // set: only the problem).
  std::optional<std::int64_t> bad_set;
  std::string problem;
  // Where the next page starts, when the walk stopped at `sets` before the end.
  std::optional<AuditCursor> next;
};

// Walks the change sets in order from `from` (the start of the chain by default), at most
// `sets` of them, and checks each against its hash; a page chains on the stored hash of the
// set before it, so the pages of one walk find what one walk over them all finds.
AuditVerification verify_audit(Database& db, AuditCursor from = {},
                               std::int64_t sets = std::numeric_limits<std::int64_t>::max());
// Gives every set its hash, in order (schema 31, for sets written before the chain).
void chain_audit(Database& db);

}  // namespace casekit
