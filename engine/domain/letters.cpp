#include "engine/domain/letters.hpp"
#include "engine/core/json.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <date/date.h>
#include <kainjow/mustache.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "engine/core/error.hpp"
#include "engine/store/audit_chain.hpp"
#include "engine/store/row_format.hpp"

namespace casekit {
namespace {

namespace mstch = kainjow::mustache;

// kainjow renders an unknown name as empty text; a letter with a blank amount is worse than
// no letter, so this context remembers the first name it could not resolve.
class StrictContext : public mstch::context<std::string> {
 public:
  explicit StrictContext(const mstch::data* root) : mstch::context<std::string>(root) {}
  const mstch::data* get(const std::string& name) const override {
    const mstch::data* d = mstch::context<std::string>::get(name);
    if (!d && missing_.empty()) missing_ = name;
    return d;
  }
  const std::string& missing() const { return missing_; }

 private:
  mutable std::string missing_;
};

mstch::data to_mustache(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mstch::data d{mstch::data::type::object};
      for (const auto& [k, v] : j.items()) {
        if (!v.is_null()) d.set(k, to_mustache(v));
      }
      return d;
    }
    case nlohmann::json::value_t::array: {
      mstch::data d{mstch::data::type::list};
      for (const auto& v : j) d.push_back(to_mustache(v));
      return d;
    }
    case nlohmann::json::value_t::string:
      return mstch::data{j.get<std::string>()};
    case nlohmann::json::value_t::boolean:
      return j.get<bool>() ? mstch::data{mstch::data::type::bool_true}
                           : mstch::data{mstch::data::type::bool_false};
    default:
      return mstch::data{j.dump()};
  }
}

std::string address_block(const Client& c) {
  if (!c.address) return "";
  std::string out = c.address->line1;
  for (const auto& part : {c.address->line2, c.address->town, c.address->postcode}) {
    if (part && !part->empty()) out += "\n" + *part;
  }
  return out;
}

const RowFormat kLetterRow{column<&Letter::id>("id"),
                           column<&Letter::template_code>("template_code"),
                           column<&Letter::recipient_id>("recipient_id"),
                           column<&Letter::casegroup_id>("casegroup_id"),
                           column<&Letter::sr_id>("sr_id"),
                           column<&Letter::body>("body"),
                           column<&Letter::status>("status"),
                           column<&Letter::outbox_file>("outbox_file"),
                           column<&Letter::created_at>("created_at"),
                           column<&Letter::fulfilled_at>("fulfilled_at")};

// What kLetterRow selects, then the letter's template version and values (NULL for a letter
// queued before schema 34, whose body is its text).
std::string select_letters(const std::string& from) {
  return kLetterRow.select(", template_version, context " + from);
}

[[noreturn]] void io_fail(const std::string& what, const std::filesystem::path& p) {
  throw Error(ErrorCode::io, what + " " + p.string() + ": " + std::strerror(errno));
}

// Writes and fsyncs a file, then renames it into place: readers never see half a letter.
void write_atomically(const std::filesystem::path& target, const std::string& content) {
  const auto tmp = std::filesystem::path(target.string() + ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_fail("cannot create", tmp);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      io_fail("cannot write", tmp);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    io_fail("cannot sync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), target.c_str()) != 0) io_fail("cannot rename into", target);
  int dir = ::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace

// One version of a template: its text parsed, named by the text's SHA-256.
struct Letters::Version {
  std::string hash;
  std::string code;
  mstch::mustache tmpl;
};

struct Letters::Parsed {
  std::unordered_map<std::string, Version> by_hash;      // every version met, parsed once
  std::unordered_map<std::string, std::string> current;  // template code -> its hash now
  std::unordered_map<Id, std::string> hash_of;           // letter_templates id -> hash
  Date day{};
  std::string day_text;
};

Letters::Letters(Database& db, const Clock& clock, const LetterCatalogue& catalogue,
                 Casegroups& casegroups, WorkItems& work_items, Users& users)
    : db_(db),
      clock_(clock),
      catalogue_(catalogue),
      casegroups_(casegroups),
      work_items_(work_items),
      users_(users),
      parsed_(std::make_unique<Parsed>()) {}

Letters::~Letters() = default;

Letters::Version& Letters::current_version(const std::string& code) {
  if (const auto it = parsed_->current.find(code); it != parsed_->current.end()) {
    return parsed_->by_hash.at(it->second);
  }
  const LetterTemplate& tpl = catalogue_.require(code);
  const std::string hash = sha256_hex(tpl.body);
  const auto [it, added] =
      parsed_->by_hash.try_emplace(hash, Version{hash, tpl.code, mstch::mustache{tpl.body}});
  if (!it->second.tmpl.is_valid()) {
    throw Error(ErrorCode::template_error,
                "letter template " + tpl.code + ": " + it->second.tmpl.error_message());
  }
  parsed_->current.emplace(code, hash);
  return it->second;
}

nlohmann::json Letters::context_of(const NewLetter& letter) {
  if (!letter.fields.is_object()) {
    throw Error(ErrorCode::bad_argument, "letter fields must be a table of names to values");
  }
  const Client recipient = casegroups_.client(letter.recipient_id);
  nlohmann::json fields = letter.fields;
  fields["recipient_name"] = recipient.name;
  fields["recipient_address"] = address_block(recipient);
  if (parsed_->day_text.empty() || parsed_->day != clock_.today()) {
    parsed_->day = clock_.today();
    parsed_->day_text = date::format("%d %B %Y", parsed_->day);
  }
  fields["date"] = parsed_->day_text;
  if (letter.casegroup_id) {
    auto st = db_.prepare("SELECT csa_ref FROM casegroups WHERE id = ?1");
    st.bind(1, *letter.casegroup_id);
    if (!st.step()) {
      throw Error(ErrorCode::not_found,
                  "no casegroup with id " + std::to_string(*letter.casegroup_id));
    }
    fields["reference"] =
        st.optional_text(0).value_or("CG-" + std::to_string(*letter.casegroup_id));
  } else {
    fields["reference"] = "CL-" + std::to_string(recipient.id);
  }
  return fields;
}

std::string Letters::render_version(Version& version, const nlohmann::json& context) {
  mstch::data data = to_mustache(context);
  StrictContext ctx(&data);
  mstch::mustache& tmpl = version.tmpl;  // kainjow's render records its errors on it
  std::string body = tmpl.render(ctx);
  if (!ctx.missing().empty()) {
    throw Error(ErrorCode::template_error,
                "letter template " + version.code + ": field '" + ctx.missing() + "' has no value");
  }
  if (!tmpl.is_valid()) {
    throw Error(ErrorCode::template_error,
                "letter template " + version.code + ": " + tmpl.error_message());
  }
  return body;
}

std::string Letters::render(const NewLetter& letter) {
  return render_version(current_version(letter.template_code), context_of(letter));
}

Letter Letters::with_body(Letter letter, std::optional<Id> template_version,
                          const std::optional<std::string>& context) {
  if (!template_version) return letter;  // queued before schema 34: its body is its text
  auto hash = parsed_->hash_of.find(*template_version);
  if (hash == parsed_->hash_of.end()) {
    auto st = db_.prepare("SELECT hash, code, body FROM letter_templates WHERE id = ?1");
    st.bind(1, *template_version);
    if (!st.step()) {
      throw Error(ErrorCode::invalid,
                  "letter " + std::to_string(letter.id) + ": its template version " +
                      std::to_string(*template_version) + " is missing from letter_templates");
    }
    parsed_->by_hash.try_emplace(st.text(0),
                                 Version{st.text(0), st.text(1), mstch::mustache{st.text(2)}});
    hash = parsed_->hash_of.emplace(*template_version, st.text(0)).first;
  }
  letter.body = render_version(parsed_->by_hash.at(hash->second),
                               nlohmann::json::parse(context.value_or("{}")));
  return letter;
}

std::vector<Letter> Letters::read_all(Statement& st, Text text) {
  std::vector<Letter> out;
  while (st.step()) {
    Letter letter = kLetterRow.read(st);
    if (text == Text::left_out) {
      letter.body.clear();  // a letter from before schema 34 keeps its text in body
    } else {
      letter = with_body(std::move(letter), st.optional_integer(10), st.optional_text(11));
    }
    out.push_back(std::move(letter));
  }
  return out;
}

// Run time, not only `casekit check`: a script that sends the letter another way, or a
// sign-off taken for other words, another person or another SR, must not get it out.
void Letters::require_sign_off(const NewLetter& letter) {
  const std::string what = "letter " + letter.template_code;
  if (!letter.signed_off) {
    throw Error(ErrorCode::forbidden,
                what +
                    " is signed off by a senior manager before it is sent: send it with "
                    "signed_off = the sign-off work item (procedures/lib/free_text_letter.lua)");
  }
  const WorkItem item = work_items_.get(*letter.signed_off);
  const std::string refused = what + " cannot go on work item " + std::to_string(item.id) + ": ";
  if (item.spec.kind != "letter_sign_off") {
    throw Error(ErrorCode::forbidden, refused + "it is a " + item.spec.kind + ", not a sign-off");
  }
  if (item.status != "completed" || item.outcome != "signed off") {
    throw Error(ErrorCode::forbidden,
                refused + "it is " + item.status +
                    (item.outcome ? " (" + *item.outcome + ")" : std::string()) +
                    ", not signed off");
  }
  if (users_.get(*item.completed_by).role != "senior_manager") {
    throw Error(ErrorCode::forbidden,
                refused + *item.completed_by + " who signed it off is not a senior manager");
  }
  const auto& d = item.spec.details;
  const auto named = [&](const char* key) {
    return d.is_object() && d.contains(key) ? d.at(key) : nlohmann::json();
  };
  const nlohmann::json to = named("to");
  const bool to_recipient =
      to.is_array() &&
      std::find(to.begin(), to.end(), nlohmann::json(letter.recipient_id)) != to.end();
  if (named("template") != letter.template_code ||
      named("free_text") != letter.fields.value("free_text", nlohmann::json()) || !to_recipient ||
      item.spec.sr_id != letter.sr_id) {
    throw Error(ErrorCode::forbidden,
                refused +
                    "what was signed off is not this letter (its template, text, "
                    "recipient or SR differ)");
  }
  auto sent = db_.prepare("SELECT id FROM letters WHERE signed_off = ?1 AND recipient_id = ?2");
  sent.bind_all(item.id, letter.recipient_id);
  if (sent.step()) {
    throw Error(ErrorCode::forbidden, refused + "its sign-off sent letter " +
                                          std::to_string(sent.integer(0)) +
                                          " to this recipient already; a sign-off sends once");
  }
}

Id Letters::queue(const NewLetter& letter) {
  const LetterTemplate& tpl = catalogue_.require(letter.template_code);
  if (tpl.sign_off) require_sign_off(letter);
  // Rendered now, so that a field missing is an error when the letter is sent; stored as
  // its version and values, and rendered again to this text whenever it is read.
  Version& version = current_version(letter.template_code);
  const nlohmann::json context = context_of(letter);
  render_version(version, context);
  if (letter.sr_id) {
    auto st = db_.prepare("SELECT 1 FROM service_requests WHERE id = ?1");
    st.bind(1, *letter.sr_id);
    if (!st.step()) {
      throw Error(ErrorCode::not_found, "no SR with id " + std::to_string(*letter.sr_id));
    }
  }
  // Looked up every time, not once a process: the transaction that first kept it may have
  // rolled back. Kept the first time only: nearly every letter finds its version there.
  Id version_id = 0;
  {
    auto kept = db_.prepare("SELECT id FROM letter_templates WHERE hash = ?1");
    kept.bind(1, version.hash);
    if (kept.step()) version_id = kept.integer(0);
  }
  if (version_id == 0) {
    db_.prepare("INSERT INTO letter_templates(hash, code, body) VALUES (?1, ?2, ?3)")
        .bind_all(version.hash, version.code, tpl.body)
        .run();
    version_id = db_.last_insert_id();
  }
  db_.prepare(
         "INSERT INTO letters(template_code, recipient_id, casegroup_id, sr_id, body, "
         "created_at, template_version, context, signed_off) "
         "VALUES (?1, ?2, ?3, ?4, '', ?5, ?6, ?7, ?8)")
      .bind_all(letter.template_code, letter.recipient_id, letter.casegroup_id, letter.sr_id,
                format_instant(clock_.now()), version_id, context.dump(),
                tpl.sign_off ? letter.signed_off : std::nullopt)
      .run();
  return db_.last_insert_id();
}

Letter Letters::get(Id id) {
  auto st = db_.prepare(select_letters("FROM letters WHERE id = ?1"));
  st.bind(1, id);
  auto found = read_all(st);
  if (found.empty()) throw Error(ErrorCode::not_found, "no letter with id " + std::to_string(id));
  return std::move(found.front());
}

std::vector<Letter> Letters::list(const std::optional<std::string>& status, int limit, Id after_id,
                                  Text text) {
  static constexpr const char* kStatuses[] = {"queued", "fulfilled", "failed"};
  if (status) require_one_of("letter status", *status, kStatuses);
  auto st =
      db_.prepare(select_letters("FROM letters WHERE (?1 IS NULL OR status = ?1) AND id > ?3 "
                                 "ORDER BY id LIMIT ?2"));
  st.bind_all(status, static_cast<std::int64_t>(limit), after_id);
  return read_all(st, text);
}

std::vector<Letter> Letters::of_casegroup(Id casegroup_id) {
  auto st = db_.prepare(select_letters("FROM letters WHERE casegroup_id = ?1 ORDER BY id"));
  st.bind(1, casegroup_id);
  return read_all(st);
}

FulfilResult Letters::fulfil(const std::filesystem::path& dir, int limit,
                             const std::function<void(const Letter&)>& after_write) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::io, "cannot create outbox " + dir.string() + ": " + ec.message());
  FulfilResult result;
  for (;;) {
    // One letter per transaction: a crash loses at most the marking of one letter, and the
    // next run rewrites that same file before marking it.
    std::vector<Letter> batch = list(std::string("queued"), 1);
    if (batch.empty()) break;
    if (limit > 0 && result.fulfilled == limit) {
      result.more = true;
      break;
    }
    const Letter& letter = batch.front();
    const auto file = dir / (std::to_string(letter.id) + "-" + letter.template_code + ".txt");
    write_atomically(file, letter.body);
    if (after_write) after_write(letter);
    Transaction tx(db_);
    db_.prepare(
           "UPDATE letters SET status = 'fulfilled', outbox_file = ?1, fulfilled_at = ?2 "
           "WHERE id = ?3 AND status = 'queued'")
        .bind_all(file.string(), format_instant(clock_.now()), letter.id)
        .run();
    tx.commit();
    ++result.fulfilled;
    result.files.push_back(file.string());
  }
  return result;
}

nlohmann::json to_json(const Letter& l, bool with_body) {
  nlohmann::json j = {{"id", l.id},
                      {"template", l.template_code},
                      {"recipient_id", l.recipient_id},
                      {"casegroup_id", or_null(l.casegroup_id)},
                      {"sr_id", or_null(l.sr_id)},
                      {"status", l.status},
                      {"outbox_file", or_null(l.outbox_file)},
                      {"created_at", l.created_at},
                      {"fulfilled_at", or_null(l.fulfilled_at)}};
  if (with_body) j["body"] = l.body;
  return j;
}

}  // namespace casekit
