// Letters: rendered from mustache templates when a procedure sends them, stored queued,
// and later written to an outbox folder by `casekit letters fulfil`. A letter is stored as
// its template's version (kept once, by hash) and the values it was rendered with, and
// rendered again, to the same text, whenever it is read (schema 34).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/domain/casegroups.hpp"
#include "engine/domain/catalogue.hpp"
#include "engine/domain/work_items.hpp"

namespace casekit {

struct NewLetter {
  std::string template_code;
  Id recipient_id = 0;
  std::optional<Id> casegroup_id;
  std::optional<Id> sr_id;
  nlohmann::json fields = nlohmann::json::object();
  // For a template signed off before it is sent: the completed sign-off work item.
  std::optional<Id> signed_off;
};

struct Letter {
  Id id = 0;
  std::string template_code;
  Id recipient_id = 0;
  std::optional<Id> casegroup_id;
  std::optional<Id> sr_id;
  std::string body;  // the text, as rendered when it was queued
  std::string status;
  std::optional<std::string> outbox_file;
  std::string created_at;
  std::optional<std::string> fulfilled_at;
};

struct FulfilResult {
  int fulfilled = 0;
  std::vector<std::string> files;
  bool more = false;  // stopped at its limit with letters still queued
};

class Letters {
 public:
  Letters(Database& db, const Clock& clock, const LetterCatalogue& catalogue,
          Casegroups& casegroups, WorkItems& work_items, Users& users);
  ~Letters();
  Letters(const Letters&) = delete;
  Letters& operator=(const Letters&) = delete;

  // Renders the template with the given fields plus the standard ones (recipient_name,
  // recipient_address, date, reference: the casegroup's CSA reference or CG-<id>, or
  // CL-<client id> for a letter about no casegroup). A field the template uses but nobody supplied
  // is an error naming the template and the field.
  std::string render(const NewLetter& letter);
  // Renders and stores the letter as queued. A template with sign_off (CMEL9271) goes only
  // with `signed_off`: a completed letter_sign_off work item, signed off by a senior manager
  // (source 001), on the letter's SR, whose details name this template, this free_text and
  // this recipient, and that has not sent it to this recipient already (a sign-off sends
  // once). Anything less is refused, saying why.
  Id queue(const NewLetter& letter);
  Letter get(Id id);
  // Whether letters read are rendered: a listing that never shows their text leaves it out
  // (`body` empty), since rendering each letter of a page for nothing was most of what a
  // page cost.
  enum class Text { rendered, left_out };
  // In id order, from after `after_id` (the last of the page before), at most `limit`.
  std::vector<Letter> list(const std::optional<std::string>& status, int limit, Id after_id = 0,
                           Text text = Text::rendered);
  std::vector<Letter> of_casegroup(Id casegroup_id);

  // Writes each queued letter to dir/<id>-<code>.txt and marks it fulfilled. The file is
  // written under a temporary name and renamed, and named by the letter's id, so a run that
  // is interrupted and started again writes each letter exactly once.
  // At most `limit` letters (0: all), so that a caller on the HTTP loop answers in bounded
  // time; `more` says whether any were left queued.
  // after_write (tests only) runs between the file landing and the row being marked.
  FulfilResult fulfil(const std::filesystem::path& dir, int limit = 0,
                      const std::function<void(const Letter&)>& after_write = {});

 private:
  void require_sign_off(const NewLetter& letter);
  struct Version;
  // The template's current version, kept in letter_templates the first time it is used.
  Version& current_version(const std::string& code);
  // Every value the letter's template reads: the caller's fields and the standard ones.
  nlohmann::json context_of(const NewLetter& letter);
  std::string render_version(Version& version, const nlohmann::json& context);
  // A letter read from its row: its text rendered again from its version and values.
  Letter with_body(Letter letter, std::optional<Id> template_version,
                   const std::optional<std::string>& context);
  std::vector<Letter> read_all(Statement& st, Text text = Text::rendered);

  Database& db_;
  const Clock& clock_;
  const LetterCatalogue& catalogue_;
  Casegroups& casegroups_;
  WorkItems& work_items_;
  Users& users_;
  // Templates parsed once, and the day's date as letters print it: an import sends letters
  // by the hundred thousand, and parsing or formatting each again dominated their cost.
  struct Parsed;
  std::unique_ptr<Parsed> parsed_;
};

nlohmann::json to_json(const Letter& l, bool with_body);

}  // namespace casekit
