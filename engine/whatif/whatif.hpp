// `casekit whatif`: a changed procedure (or library module) tried on a copy of the real
// caseload, beside the same run on the current files, without touching the caseload.
//
// Two consistent snapshots of the database are taken (store/backup.hpp), each with a copy of
// the home's procedures/ and scripts/ (the changed side with the changed files written in).
// On each side, on a simulated clock from the live clock's now, every running instance of
// the procedure is verified by replay and moved to that side's files (as
// `instance upgrade --procedure P --to-current` would); those whose history does not replay
// on the changed files stay on their source and are reported. Then timers and schedules fire
// for the days asked, as `casekit clock advance` fires them. What each side made in those
// days is counted by kind (SRs raised and closed by type, work items by inbox, letters by
// template, money scheduled, instances started and failed, work items answered as stated
// and those an answer could not complete), with, for each difference, a few casegroups
// whose two runs differ.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/domain/engine.hpp"

namespace casekit {

// Behaviour stated for the runs, as nobody works the copies: every open work item of `kind`
// is completed with `outcome` and `fields` within a day of appearing, by a stand-in user of
// its inbox's first role and its team. Items of other kinds stay open.
struct WhatIfAnswer {
  std::string kind;
  std::string outcome;
  std::map<std::string, std::string> fields;
};

struct WhatIfOptions {
  std::string procedure;
  // The changed text of procedures/PROCEDURE.lua, if it changes.
  std::optional<std::filesystem::path> source;
  // Changed library modules: the file as it sits under procedures/lib ("arrears/common.lua")
  // and the file holding its new text.
  std::map<std::string, std::filesystem::path> modules;
  int days = 30;
  std::size_t examples = 3;  // casegroups shown for each difference
  // A casegroup whose two timelines to show: what each run changed on it.
  std::optional<Id> casegroup;
  std::vector<WhatIfAnswer> answers;
  // Only these casegroups (parse_casegroup_query): only their instances are moved to a side's
  // files and only what happens to them is counted. Every timer and schedule still fires.
  std::optional<CasegroupFilter> casegroups;
  // Stated behaviour of the external systems, the same on both sides: "bancs.unsuspend" (a
  // system and one of its operations, kAdapterOperations) refuses with the message given.
  // The rest answer as the engine's adapters do, from the copy's own records.
  std::map<std::string, std::string> refusals;
  // Where the two copies are made; the system's temporary folder if empty.
  std::filesystem::path work_dir;
  // A line at each step of a long run (copying, verifying, advancing), or nothing.
  std::function<void(std::string_view)> progress;
};

// One kind of thing the runs made ("SRs raised", key "Arrears Management / Arrears
// Review"): how many (or, for money, how many pence) on each side, and casegroups where the
// two runs differ.
struct WhatIfCount {
  std::string measure;
  std::string key;
  std::int64_t current = 0;
  std::int64_t changed = 0;
  std::vector<Id> examples;
};

struct WhatIfDivergence {
  Id instance = 0;
  std::optional<Id> casegroup;
  std::string message;
};

struct WhatIfReport {
  std::string procedure;
  std::string from;          // the live clock's now, where both runs start
  std::string until;         // `days` later
  std::int64_t running = 0;  // running instances of the procedure in the snapshot
  // With WhatIfOptions::casegroups: how many casegroups it selected (`running` counts
  // only theirs).
  std::optional<std::int64_t> selected;
  // Instances whose history does not replay on the changed files (they stay on their
  // source in the changed run); and those that do not replay on the current files either
  // (someone edited the procedure without upgrading): not the change's doing.
  std::vector<WhatIfDivergence> diverging;
  std::vector<WhatIfDivergence> diverging_already;
  std::vector<WhatIfCount> counts;  // by measure, then key
  // With WhatIfOptions::casegroup: what each run changed on it, as `casekit audit
  // --casegroup` shows a trail ({"changes": [...], newest first}; the newest 1,000).
  std::optional<Id> casegroup;
  nlohmann::json current_timeline;
  nlohmann::json changed_timeline;
};

// The operations each external system's adapter has, as --refuse names them.
inline constexpr const char* kAdapterOperations[] = {
    "bancs.display_written_off", "bancs.reverse_write_off",
    "bancs.unsuspend",           "cis.verify",
    "cis.benefit_details",       "cra.search"};

// "segment=Enforcement,flag=enforcement_monitoring": a casegroup search, as CasegroupFilter
// holds it (keys segment, flag, csa_ref, nino, name, review_due_by; at least one).
CasegroupFilter parse_casegroup_query(const std::string& query);

// Runs the two sides and compares them. `live`'s database is only read (a snapshot).
// Unknown procedure, unreadable files, a module outside procedures/lib or days outside
// 1..366 are errors before anything is copied.
WhatIfReport run_whatif(Engine& live, const WhatIfOptions& options);

nlohmann::json to_json(const WhatIfReport& report);

}  // namespace casekit
