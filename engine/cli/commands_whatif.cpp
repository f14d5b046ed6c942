// casekit whatif PROC --source FILE | --module lib/FILE=NEWFILE: a changed procedure tried on
// a copy of the caseload, beside the current files (engine/whatif/whatif.hpp).
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/core/money.hpp"
#include "engine/core/text.hpp"
#include "engine/whatif/whatif.hpp"

namespace casekit::cli {
namespace {

std::string casegroups(const std::vector<Id>& ids) {
  std::string out;
  for (Id id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out.empty() ? "-" : out;
}

std::string amount(const WhatIfCount& c, std::int64_t n) {
  if (c.measure.starts_with("money")) return money::format(n);
  if (c.measure == "staff minutes") {
    // Hours to a tenth, as staffing is planned.
    const std::int64_t tenths = (n * 10 + (n < 0 ? -30 : 30)) / 60;
    return std::to_string(tenths / 10) + "." + std::to_string(std::abs(tenths % 10)) + " h";
  }
  return std::to_string(n);
}

std::string measure(const WhatIfCount& c) {
  return c.measure == "staff minutes" ? "staff hours" : c.measure;
}

// "bancs.reverse_write_off" or "bancs.reverse_write_off=BaNCS timed out".
std::pair<std::string, std::string> parse_refusal(const std::string& text) {
  const auto eq = text.find('=');
  const std::string name = text.substr(0, eq);
  const auto dot = name.find('.');
  if (dot == std::string::npos || dot == 0) {
    throw CLI::ValidationError("--refuse", "'" + text + "' is not SYSTEM.OPERATION[=MESSAGE]");
  }
  std::string system = name.substr(0, dot);
  for (auto& ch : system) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (system == "BANCS") system = "BaNCS";
  const std::string message =
      eq == std::string::npos ? system + " unavailable" : text.substr(eq + 1);
  return {name, message};
}

// "missed_payment_call=contact failed" or "negotiation=agreed,schedule_acceptable=yes".
WhatIfAnswer parse_answer(const std::string& text) {
  const auto bad = [&] {
    return CLI::ValidationError("--answer", "'" + text + "' is not KIND=OUTCOME[,FIELD=VALUE...]");
  };
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw bad();
  WhatIfAnswer answer;
  answer.kind = text.substr(0, eq);
  std::vector<std::string> parts = split(std::string_view(text).substr(eq + 1), ',');
  answer.outcome = parts.front();
  if (answer.outcome.empty()) throw bad();
  parts.erase(parts.begin());
  answer.fields = key_values(parts, "--answer");
  return answer;
}

// The first few: a broken change can make every instance diverge (--json lists them all).
constexpr std::size_t kDivergencesShown = 20;

void print_divergences(const std::string& heading, const std::vector<WhatIfDivergence>& list) {
  if (list.empty()) return;
  std::cout << "\n" << list.size() << " " << heading << "\n";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i == kDivergencesShown) {
      std::cout << "  ... and " << list.size() - i << " more (--json lists them all)\n";
      break;
    }
    const auto& d = list[i];
    std::cout << "  instance " << d.instance
              << (d.casegroup ? " (casegroup " + std::to_string(*d.casegroup) + ")" : "") << ": "
              << d.message << "\n";
  }
}

void print_report(const WhatIfReport& r) {
  std::cout << "what if: " << r.procedure << " from " << r.from << " to " << r.until << "\n";
  if (r.selected) std::cout << *r.selected << " casegroup(s) selected; only theirs counted\n";
  std::cout << r.running << " running instance(s) of " << r.procedure << ": " << r.diverging.size()
            << " do not replay on the changed files and stay on their source"
            << "\n\n";
  std::vector<std::vector<std::string>> rows = {
      {"measure", "of", "current", "changed", "difference", "casegroups that differ"}};
  int differences = 0;
  for (const auto& c : r.counts) {
    const std::int64_t diff = c.changed - c.current;
    differences += diff != 0 || !c.examples.empty();
    rows.push_back({measure(c), c.key, amount(c, c.current), amount(c, c.changed),
                    diff == 0 ? "-" : (diff > 0 ? "+" : "") + amount(c, diff),
                    casegroups(c.examples)});
  }
  if (rows.size() == 1) {
    std::cout << "neither run made anything in these days\n";
  } else {
    print_table(rows);
  }
  std::cout << "\n"
            << (differences == 0 ? "no differences"
                                 : std::to_string(differences) + " difference(s)")
            << " between the current and the changed files\n";
  print_divergences("instance(s) do not replay on the changed files (they stay on their source):",
                    r.diverging);
  print_divergences(
      "instance(s) do not replay on the current files either (not the change's doing):",
      r.diverging_already);
  if (r.casegroup) {
    std::cout << "\ncasegroup " << *r.casegroup << " with the current files:\n";
    print_trail(r.current_timeline);
    std::cout << "\ncasegroup " << *r.casegroup << " with the changed files:\n";
    print_trail(r.changed_timeline);
  }
}

}  // namespace

void add_whatif_command(CLI::App& app, Context& ctx) {
  struct Options {
    std::string procedure;
    std::string source;
    std::vector<std::string> modules;
    int days = 30;
    std::size_t examples = 3;
    std::optional<Id> casegroup;
    std::vector<std::string> answers;
    std::string casegroups;
    std::vector<std::string> refusals;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "whatif",
      "Try a changed procedure or library module on a copy of the caseload, beside the current "
      "files, for N days of simulated time; the caseload is not touched");
  cmd->add_option("procedure", o->procedure, "the procedure whose instances the change affects")
      ->required();
  cmd->add_option("--source", o->source, "the changed procedures/PROCEDURE.lua");
  cmd->add_option("--module", o->modules,
                  "a changed library module: its file under procedures/lib=the new text's file "
                  "(e.g. arrears/common.lua=common.lua); repeatable");
  cmd->add_option("--days", o->days, "days of simulated time to run (1 to 366)")
      ->check(CLI::Range(1, 366));
  cmd->add_option("--examples", o->examples, "casegroups shown for each difference")
      ->check(CLI::Range(0, 100));
  cmd->add_option("--casegroup", o->casegroup,
                  "also show this casegroup's two timelines: what each run changed on it");
  cmd->add_option("--answer", o->answers,
                  "stated behaviour: complete every work item of KIND with OUTCOME (and these "
                  "fields) within a day: KIND=OUTCOME[,FIELD=VALUE...]; repeatable");
  cmd->add_option("--casegroups", o->casegroups,
                  "only these casegroups: KEY=VALUE[,KEY=VALUE...] with the keys of "
                  "casegroup list (segment, flag, csa_ref, nino, name, review_due_by)");
  cmd->add_option("--refuse", o->refusals,
                  "stated behaviour: an external system refuses this operation, with this "
                  "message: SYSTEM.OPERATION[=MESSAGE] (bancs.reverse_write_off, cis.verify, "
                  "cra.search, ...); repeatable");
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([&ctx, o] {
    WhatIfOptions options;
    options.procedure = o->procedure;
    if (!o->source.empty()) options.source = o->source;
    for (const auto& [name, file] : key_values(o->modules, "--module")) {
      options.modules.emplace(name, file);
    }
    options.days = o->days;
    options.examples = o->examples;
    options.casegroup = o->casegroup;
    for (const auto& text : o->answers) options.answers.push_back(parse_answer(text));
    if (!o->casegroups.empty()) options.casegroups = parse_casegroup_query(o->casegroups);
    for (const auto& text : o->refusals) options.refusals.insert(parse_refusal(text));
    options.progress = [](std::string_view line) { std::cerr << "whatif: " << line << "\n"; };
    const WhatIfReport report = run_whatif(ctx.open(), options);
    if (o->json) {
      print_json(to_json(report));
    } else {
      print_report(report);
    }
  });
}

}  // namespace casekit::cli
