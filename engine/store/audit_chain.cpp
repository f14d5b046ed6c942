#include "engine/store/audit_chain.hpp"

#include <openssl/evp.h>

#include <array>
#include <functional>
#include <limits>
#include <vector>

#include "engine/core/error.hpp"
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
                          const std::optional<std::string>& after, std::string_view why) {
  field(entity);
  field(entity_id);
  field(action);
  before ? field(*before, "b:") : field("n");
  after ? field(*after, "a:") : field("n");
  field(why);
}

std::string AuditSetHash::hex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(evp(context()), digest.data(), &size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

namespace {

// Every set with its changes, in order; `each` gets a set's id, its stored hash and the
// hash its content gives after the set before: after that set's stored hash when verifying
// (so one altered set fails alone), after its computed one when chaining afresh.
enum class Previous { stored, computed };
using EachSet = std::function<void(std::int64_t set, const std::optional<std::string>& stored,
                                   const std::string& computed, std::int64_t changes,
                                   std::int64_t first_change)>;

// The sets with ids in (after, up_to]; `previous` is the hash the first chains on, and is
// left as the one the next would.
void walk_sets(Database& db, Previous chain_on, std::int64_t after, std::int64_t up_to,
               std::string& previous, const EachSet& each) {
  auto st = db.prepare(
      "SELECT s.id, s.at, s.actor, s.hash, c.id, c.entity, typeof(c.entity_id), c.entity_id, "
      "c.action, c.before, c.after, w.why FROM audit_sets s "
      "LEFT JOIN audit_changes c ON c.set_id = s.id LEFT JOIN audit_whys w ON w.id = c.why_id "
      "WHERE s.id > ?1 AND s.id <= ?2 ORDER BY s.id, c.id");
  st.bind_all(after, up_to);
  std::optional<AuditSetHash> hash;
  std::int64_t set = 0, changes = 0, first_change = 0;
  std::optional<std::string> stored;
  const auto finish = [&] {
    if (!hash) return;
    const std::string computed = hash->hex();
    each(set, stored, computed, changes, first_change);
    previous = chain_on == Previous::stored ? stored.value_or("") : computed;
  };
  while (st.step()) {
    if (!hash || st.integer(0) != set) {
      finish();
      set = st.integer(0);
      stored = st.optional_text(3);
      hash.emplace(previous, st.text(1), st.text(2));
      changes = 0;
      first_change = st.is_null(4) ? 0 : st.integer(4);
    }
    if (st.is_null(4)) continue;  // a set with no changes left
    ++changes;
    const std::string type = st.text(6);
    const std::string id = type == "integer" ? AuditSetHash::integer_id(st.integer(7))
                           : type == "null"  ? std::string("n")
                                             : AuditSetHash::text_id(st.text(7));
    hash->change(st.text(5), id, st.text(8), st.optional_text(9), st.optional_text(10),
                 st.optional_text(11).value_or(""));
  }
  finish();
}

}  // namespace

AuditVerification verify_audit(Database& db) {
  AuditVerification out;
  std::string previous;
  walk_sets(db, Previous::stored, 0, std::numeric_limits<std::int64_t>::max(), previous,
            [&](std::int64_t set, const std::optional<std::string>& stored,
                const std::string& computed, std::int64_t changes, std::int64_t first) {
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
            });
  auto orphans = db.prepare(
      "SELECT min(id) FROM audit_changes WHERE set_id NOT IN (SELECT id FROM audit_sets)");
  orphans.step();
  if (!out.bad_set && !orphans.is_null(0)) {
    out.problem = "audit change " + std::to_string(orphans.integer(0)) +
                  " belongs to no change set: it was inserted, or its set removed, outside casekit";
  }
  return out;
}

void chain_audit(Database& db) {
  // A thousand sets at a time, their hashes written before the next are read.
  constexpr std::int64_t kPage = 1000;
  std::int64_t last = 0;
  {
    auto st = db.prepare("SELECT coalesce(max(id), 0) FROM audit_sets");
    st.step();
    last = st.integer(0);
  }
  std::string previous;
  for (std::int64_t after = 0; after < last; after += kPage) {
    std::vector<std::pair<std::int64_t, std::string>> hashes;
    walk_sets(db, Previous::computed, after, after + kPage, previous,
              [&](std::int64_t set, const std::optional<std::string>&, const std::string& computed,
                  std::int64_t, std::int64_t) { hashes.emplace_back(set, computed); });
    for (const auto& [id, hex] : hashes) {
      db.prepare("UPDATE audit_sets SET hash = ?1 WHERE id = ?2").bind_all(hex, id).run();
    }
  }
}

}  // namespace casekit
