#include <fstream>

#include "engine/core/error.hpp"
#include "engine/store/audit_chain.hpp"
#include "test_support.hpp"

using namespace casekit;
using casekit::test::TestEngine;

namespace {

NewLetter missed_payment(const test::Family& f) {
  return {"CMSL6000",
          f.receiving_parent,
          f.casegroup,
          std::nullopt,
          {{"amount_missed", "£50.00"}, {"due_date", "2026-11-01"}},
          std::nullopt};
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("the letter catalogue has the templates the source procedures name") {
  TestEngine t;
  for (const char* code :
       {"CMSL6000", "CMSL6051", "CMSL6056", "CMEL7402", "CMEL9271", "CMEL9116", "CMSB046"}) {
    INFO(code);
    CHECK(t.engine.letter_catalogue.find(code) != nullptr);
  }
}

TEST_CASE("a letter renders with the standard and the given fields") {
  TestEngine t;
  const auto f = t.family();
  const std::string body = t.engine.letters.render(missed_payment(f));
  CHECK_THAT(body, Catch::StartsWith("Alex Receiver\n2 Low Rd\nYork\nYO1 1BB\n"));
  CHECK_THAT(body, Catch::Contains("20 November 2026"));
  CHECK_THAT(body, Catch::Contains("Our reference: CSA-0000001"));
  CHECK_THAT(body, Catch::Contains("payment of £50.00 that was due on\n2026-11-01"));
}

TEST_CASE("a missing template field names the template and the field, and queues nothing") {
  TestEngine t;
  const auto f = t.family();
  NewLetter l = missed_payment(f);
  l.fields.erase("due_date");
  CHECK_THROWS_WITH(t.engine.letters.queue(l),
                    Catch::Contains("CMSL6000") && Catch::Contains("'due_date'"));
  CHECK(t.count("letters") == 0);
  l.template_code = "CMXX0000";
  CHECK_THROWS_WITH(t.engine.letters.queue(l), Catch::Contains("unknown letter template"));
}

TEST_CASE("fulfil writes each queued letter once and marks it fulfilled") {
  TestEngine t;
  const auto f = t.family();
  for (int i = 0; i < 3; ++i) t.engine.letters.queue(missed_payment(f));
  const auto outbox = t.dir.path() / "outbox";
  const auto result = t.engine.letters.fulfil(outbox);
  CHECK(result.fulfilled == 3);
  CHECK(t.engine.letters.list(std::string("queued"), 100).empty());
  CHECK(t.engine.letters.fulfil(outbox).fulfilled == 0);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(outbox)) {
    ++files;
    CHECK(e.path().extension() == ".txt");
  }
  CHECK(files == 3);
}

TEST_CASE("fulfil with a limit writes that many and says more are queued") {
  TestEngine t;
  const auto f = t.family();
  for (int i = 0; i < 3; ++i) t.engine.letters.queue(missed_payment(f));
  const test::TempDir dir;
  const auto first = t.engine.letters.fulfil(dir.path(), 2);
  CHECK(first.fulfilled == 2);
  CHECK(first.more);
  const auto rest = t.engine.letters.fulfil(dir.path(), 2);
  CHECK(rest.fulfilled == 1);
  CHECK_FALSE(rest.more);
}

TEST_CASE("fulfil interrupted between writing and marking finishes the job without doubles") {
  TestEngine t;
  const auto f = t.family();
  for (int i = 0; i < 4; ++i) t.engine.letters.queue(missed_payment(f));
  const auto outbox = t.dir.path() / "outbox";
  int written = 0;
  struct Crash {};
  // The "crash" comes after the second letter's file lands but before its row is marked.
  CHECK_THROWS_AS(t.engine.letters.fulfil(outbox, 0,
                                          [&](const Letter&) {
                                            if (++written == 2) throw Crash{};
                                          }),
                  Crash);
  CHECK(t.engine.letters.list(std::string("fulfilled"), 100).size() == 1);
  const auto again = t.engine.letters.fulfil(outbox);
  CHECK(again.fulfilled == 3);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(outbox)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"1-CMSL6000.txt", "2-CMSL6000.txt", "3-CMSL6000.txt",
                                          "4-CMSL6000.txt"});
  for (const auto& l : t.engine.letters.list(std::nullopt, 100, 0, Letters::Text::left_out)) {
    CHECK(l.status == "fulfilled");
    CHECK(l.body.empty());  // a listing leaves the text out; get() renders it
    CHECK(read(*l.outbox_file) == t.engine.letters.get(l.id).body);
  }
}

TEST_CASE("a malformed template is a template error naming the template") {
  casekit::test::TempDir dir;
  {
    std::ofstream(dir.path() / "letters.toml")
        << "[[letter]]\ncode = \"BROKEN1\"\ntitle = \"Broken\"\nrecipient = \"any\"\n";
    std::ofstream(dir.path() / "BROKEN1.mustache")
        << "Dear {{recipient_name}},\n{{#open}} never closed\n";
  }
  TestEngine t;
  const auto f = t.family();
  const LetterCatalogue catalogue = LetterCatalogue::load(dir.path());
  Letters letters(t.db, t.clock, catalogue, t.engine.casegroups, t.engine.work_items,
                  t.engine.users);
  try {
    letters.queue({"BROKEN1",
                   f.receiving_parent,
                   std::nullopt,
                   std::nullopt,
                   {{"open", true}},
                   std::nullopt});
    FAIL("rendered a broken template");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::template_error);
    CHECK_THAT(e.what(), Catch::StartsWith("letter template BROKEN1: "));
  }
  CHECK(t.count("letters") == 0);
}

TEST_CASE("a letter catalogue entry without its template file is reported at load") {
  casekit::test::TempDir dir;
  std::ofstream(dir.path() / "letters.toml")
      << "[[letter]]\ncode = \"GONE1\"\ntitle = \"Gone\"\nrecipient = \"any\"\n";
  CHECK_THROWS_WITH(LetterCatalogue::load(dir.path()), Catch::Contains("GONE1.mustache"));
}

TEST_CASE("a letter is kept as its template's version and values, and reads back as sent") {
  TestEngine t;
  const auto f = t.family();
  casekit::test::TempDir v1, v2;
  for (const auto& [dir, words] : {std::pair{&v1, "We wrote"}, std::pair{&v2, "We have written"}}) {
    std::ofstream(dir->path() / "letters.toml")
        << "[[letter]]\ncode = \"NOTE1\"\ntitle = \"Note\"\nrecipient = \"any\"\n";
    std::ofstream(dir->path() / "NOTE1.mustache") << "{{recipient_name}}\n{{recipient_address}}\n"
                                                  << words << " about {{amount}} on {{date}}.\n";
  }
  const LetterCatalogue first = LetterCatalogue::load(v1.path());
  const NewLetter note{"NOTE1",      f.receiving_parent,     f.casegroup,
                       std::nullopt, {{"amount", "£12.00"}}, std::nullopt};
  Id sent = 0;
  std::string text;
  {
    Letters letters(t.db, t.clock, first, t.engine.casegroups, t.engine.work_items, t.engine.users);
    text = letters.render(note);
    sent = letters.queue(note);
    CHECK(letters.get(sent).body == text);
  }
  CHECK_THAT(text, Catch::Contains("We wrote about £12.00 on 20 November 2026."));
  // Stored: the version's hash and the values, not the text.
  auto row = t.db.prepare(
      "SELECT l.body, v.hash, l.context FROM letters l JOIN letter_templates v ON v.id = "
      "l.template_version WHERE l.id = ?1");
  row.bind(1, sent);
  REQUIRE(row.step());
  CHECK(row.text(0).empty());
  CHECK(row.text(1) == sha256_hex(first.require("NOTE1").body));
  CHECK_THAT(row.text(2), Catch::Contains("\"amount\":\"£12.00\"") &&
                              Catch::Contains("\"recipient_name\":\"Alex Receiver\""));

  // The template edited, the recipient moved, days later: the letter sent reads as it was
  // sent, and a new one takes the new words and address.
  t.engine.casegroups.set_address(
      f.receiving_parent,
      Address{"9 New St", {}, std::string("Hull"), std::string("HU1 1AA"), "confirmed"});
  t.clock.set(t.clock.now() + std::chrono::hours(24 * 3));
  const LetterCatalogue second = LetterCatalogue::load(v2.path());
  Letters letters(t.db, t.clock, second, t.engine.casegroups, t.engine.work_items, t.engine.users);
  CHECK(letters.get(sent).body == text);
  const Id later = letters.queue(note);
  CHECK_THAT(letters.get(later).body,
             Catch::Contains("9 New St") &&
                 Catch::Contains("We have written about £12.00 on 23 November 2026."));
  CHECK(t.count("letter_templates") == 2);
  const auto outbox = t.dir.path() / "outbox";
  REQUIRE(letters.fulfil(outbox).fulfilled == 2);
  CHECK(read(outbox / (std::to_string(sent) + "-NOTE1.txt")) == text);

  // A letter queued before schema 34 kept its text, and reads as it.
  t.db.exec("INSERT INTO letters(template_code, recipient_id, body, created_at) VALUES ('NOTE1', " +
            std::to_string(f.receiving_parent) + ", 'as written then', '2026-11-01T09:00:00Z')");
  CHECK(letters.get(t.db.last_insert_id()).body == "as written then");
  // And no letter's text changes once it is queued.
  CHECK_THROWS_WITH(
      t.db.exec("UPDATE letters SET context = '{}' WHERE id = " + std::to_string(sent)),
      Catch::Contains("never changes"));
}

// Schema 38: the store holds the rule the domain checks, for writes that go round it.
TEST_CASE("the store lets a sign-off send one letter to each recipient and never changes it") {
  TestEngine t;
  const auto f = t.family();
  t.db.exec("PRAGMA foreign_keys = OFF");  // no sign-off work item needed to test the index
  const auto send = [&](Id to) {
    t.db.prepare(
            "INSERT INTO letters(template_code, recipient_id, body, created_at, signed_off) "
            "VALUES ('CMEL9271', ?1, 'x', '2026-11-20T09:00:00Z', 77)")
        .bind(1, to)
        .run();
  };
  send(f.paying_parent);
  send(f.receiving_parent);
  CHECK_THROWS_WITH(send(f.paying_parent), Catch::Contains("UNIQUE"));
  CHECK(t.count("letters") == 2);
  CHECK_THROWS_WITH(t.db.exec("UPDATE letters SET signed_off = 78"),
                    Catch::Contains("sign-off never changes"));
  CHECK_THROWS_WITH(t.db.exec("UPDATE letters SET signed_off = NULL"),
                    Catch::Contains("sign-off never changes"));
}
