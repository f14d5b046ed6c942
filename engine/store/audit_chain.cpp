#include "engine/store/audit_chain.hpp"

#include <openssl/evp.h>

#include <array>
#include <functional>
#include <limits>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/core/text.hpp"
#include "engine/store/database.hpp"

namespace casekit {

namespace {

EVP_MD_CTX* evp(void* context) {
  return static_cast<EVP_MD_CTX*>(context);
}

}  // namespace

void AuditSetHash::Free::operator()(void* context) const {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context));
}

AuditSetHash::AuditSetHash(std::string_view previous, std::string_view at, std::string_view actor)
    : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(evp(context()), EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::internal, "SHA-256 could not start");
  }
  field(previous);
  field(at);
  field(actor);
}

// `prefix` and `text` as one field, without joining them first.
void AuditSetHash::field(std::string_view text, std::string_view prefix) {
  const std::string length = std::to_string(prefix.size() + text.size()) + ":";
  EVP_DigestUpdate(evp(context()), length.data(), length.size());
  EVP_DigestUpdate(evp(context()), prefix.data(), prefix.size());
  EVP_DigestUpdate(evp(context()), text.data(), text.size());
}

void AuditSetHash::change(std::string_view entity, std::string_view entity_id,
                          std::string_view action, const std::optional<std::string>& before,
                          const std::optional<std::string>& after, std::string_view why,
                          std::string_view columns) {
  field(entity);
  field(entity_id);
  field(action);
  before ? field(*before, "b:") : field("n");
  after ? field(*after, "a:") : field("n");
  field(why);
  // A row kept as a list of values means nothing without the columns it follows: they are
  // part of what the hash vouches for. (Changes from before schema 36 name their columns.)
  if (!columns.empty() && columns != "[]") field(columns, "c:");
}

namespace {

std::string to_hex(const unsigned char* digest, unsigned int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string AuditSetHash::hex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(evp(context()), digest.data(), &size);
  return to_hex(digest.data(), size);
}

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::internal, "SHA-256 failed");
  }
  return to_hex(digest.data(), size);
}

namespace {

// The sets with ids in (from.set, up_to] with their changes, in order; `each` gets a set's
// id, its stored hash and the hash its content gives after the set before: after that set's
// stored hash when verifying (so one altered set fails alone), after its computed one when
// chaining afresh. `previous` is the hash the first chains on, and is left as the one the
// next would.
//
// The engine writes a set's changes straight after the set, so change ids rise with set
// ids, and the two tables are read side by side in id order (by their primary keys: a join
// on set_id would need an index the audit does not otherwise want). A change that is not
// where its set is (its set removed, or it inserted or moved by hand) is a problem: the walk
// stops there and says so. Returns the cursor the next walk starts from.
enum class Previous { stored, computed };

// The changes after ?1 in order, as the hash takes them: from schema 36 a change names its
// table and columns by a shape and its action by number; before it (schema 31 chains the
// audit as it was then), by name.
std::string changes_sql(Database& db) {
  auto st =
      db.prepare("SELECT count(*) FROM pragma_table_info('audit_changes') WHERE name = 'shape_id'");
  st.step();
  if (st.integer(0) == 0) {
    return "SELECT c.id, c.set_id, c.entity, typeof(c.entity_id), c.entity_id, c.action, "
           "c.before, c.after, w.why, NULL FROM audit_changes c "
           "LEFT JOIN audit_whys w ON w.id = c.why_id WHERE c.id > ?1 ORDER BY c.id";
  }
  return "SELECT c.id, c.set_id, sh.entity, typeof(c.entity_id), c.entity_id, "
         "CASE c.action WHEN 1 THEN 'insert' WHEN 2 THEN 'update' WHEN 3 THEN 'delete' END, "
         "c.before, c.after, w.why, sh.columns FROM audit_changes c "
         "LEFT JOIN audit_shapes sh ON sh.id = c.shape_id "
         "LEFT JOIN audit_whys w ON w.id = c.why_id WHERE c.id > ?1 ORDER BY c.id";
}
using EachSet = std::function<void(std::int64_t set, const std::optional<std::string>& stored,
                                   const std::string& computed, std::int64_t changes,
                                   std::int64_t first_change)>;

AuditCursor walk_sets(Database& db, Previous chain_on, AuditCursor from, std::int64_t up_to,
                      std::string& previous, const EachSet& each, std::string& problem) {
  auto sets = db.prepare(
      "SELECT id, at, actor, hash FROM audit_sets WHERE id > ?1 AND id <= ?2 "
      "ORDER BY id");
  sets.bind_all(from.set, up_to);
  auto changes = db.prepare(changes_sql(db));
  changes.bind(1, from.change);
  bool change_ready = changes.step();
  AuditCursor at = from;
  const auto misplaced = [&] {
    problem = "audit change " + std::to_string(changes.integer(0)) + " names change set " +
              std::to_string(changes.integer(1)) +
              ", which is not where it sits: it was inserted or moved, or its set removed, "
              "outside casekit";
  };
  while (sets.step()) {
    const std::int64_t set = sets.integer(0);
    const std::optional<std::string> stored = sets.optional_text(3);
    AuditSetHash hash(previous, sets.text(1), sets.text(2));
    std::int64_t count = 0, first_change = 0;
    for (; change_ready && changes.integer(1) <= set; change_ready = changes.step()) {
      if (changes.integer(1) < set) {
        misplaced();
        return at;
      }
      if (count++ == 0) first_change = changes.integer(0);
      at.change = changes.integer(0);
      const std::string type = changes.text(3);
      const std::string id = type == "integer" ? AuditSetHash::integer_id(changes.integer(4))
                             : type == "null"  ? std::string("n")
                                               : AuditSetHash::text_id(changes.text(4));
      hash.change(changes.optional_text(2).value_or(""), id, changes.optional_text(5).value_or(""),
                  changes.optional_text(6), changes.optional_text(7),
                  changes.optional_text(8).value_or(""), changes.optional_text(9).value_or(""));
    }
    const std::string computed = hash.hex();
    each(set, stored, computed, count, first_change);
    previous = chain_on == Previous::stored ? stored.value_or("") : computed;
    at.set = set;
  }
  // Past the last set of the walk: the next change must belong to a set after it.
  if (change_ready && changes.integer(1) <= up_to) misplaced();
  return at;
}

std::int64_t last_set(Database& db) {
  auto st = db.prepare("SELECT coalesce(max(id), 0) FROM audit_sets");
  st.step();
  return st.integer(0);
}

}  // namespace

std::string AuditCursor::text() const {
  return std::to_string(set) + "." + std::to_string(change);
}

std::optional<AuditCursor> AuditCursor::parse(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto number = [](std::string_view digits) -> std::optional<std::int64_t> {
    return digits == "0" ? 0 : positive_number(digits);
  };
  const auto set = number(text.substr(0, dot));
  const auto change = number(text.substr(dot + 1));
  if (!set || !change) return std::nullopt;
  return AuditCursor{*set, *change};
}

AuditVerification verify_audit(Database& db, AuditCursor from, std::int64_t sets) {
  AuditVerification out;
  std::string previous;
  if (from.set > 0) {
    // The set the page chains on: a page starts where the one before stopped.
    auto st = db.prepare("SELECT hash FROM audit_sets WHERE id = ?1");
    st.bind(1, from.set);
    if (!st.step()) {
      out.bad_set = from.set;
      out.problem = "audit set " + std::to_string(from.set) +
                    ", where this page starts, is gone: it was removed outside casekit";
      return out;
    }
    previous = st.optional_text(0).value_or("");
  }
  const std::int64_t last = last_set(db);
  const std::int64_t up_to = sets >= last - from.set ? last : from.set + sets;
  const AuditCursor stopped = walk_sets(
      db, Previous::stored, from, up_to, previous,
      [&](std::int64_t set, const std::optional<std::string>& stored, const std::string& computed,
          std::int64_t changes, std::int64_t first) {
        ++out.sets;
        out.changes += changes;
        out.head = stored.value_or("");
        if (out.bad_set || stored == computed) return;
        out.bad_set = set;
        out.problem =
            "audit set " + std::to_string(set) +
            (changes ? " (changes from " + std::to_string(first) + ")" : " (no changes)") +
            " does not match its hash: a change in it was altered, removed or inserted, "
            "or a set just before it was removed or inserted, outside casekit";
      },
      out.problem);
  if (!out.problem.empty()) return out;
  if (up_to < last) {
    out.next = stopped;
    return out;
  }
  // The whole chain walked: a change left over belongs to no set.
  auto orphans = db.prepare("SELECT min(id) FROM audit_changes WHERE id > ?1");
  orphans.bind(1, stopped.change);
  orphans.step();
  if (!orphans.is_null(0)) {
    out.problem = "audit change " + std::to_string(orphans.integer(0)) +
                  " belongs to no change set: it was inserted, or its set removed, outside casekit";
  }
  return out;
}

void chain_audit(Database& db) {
  // A thousand sets at a time, their hashes written before the next are read.
  constexpr std::int64_t kPage = 1000;
  const std::int64_t last = last_set(db);
  std::string previous;
  AuditCursor from;
  while (from.set < last) {
    std::vector<std::pair<std::int64_t, std::string>> hashes;
    std::string problem;
    const std::int64_t up_to = std::min(last, from.set + kPage);
    const AuditCursor stopped = walk_sets(
        db, Previous::computed, from, up_to, previous,
        [&](std::int64_t set, const std::optional<std::string>&, const std::string& computed,
            std::int64_t, std::int64_t) { hashes.emplace_back(set, computed); },
        problem);
    if (!problem.empty()) throw Error(ErrorCode::invalid, problem);
    for (const auto& [id, hex] : hashes) {
      db.prepare("UPDATE audit_sets SET hash = ?1 WHERE id = ?2").bind_all(hex, id).run();
    }
    from = {up_to, stopped.change};
  }
}

}  // namespace casekit
