// The transition benchmark's yardstick (issue 18): the domain rows an import left, and
// nothing else, written again into a fresh database by a plain loop of prepared statements.
// The rows are the import's own (every column, ids included), so the baseline cannot write
// less than the import did; and it writes them the cheapest way there is, a table at a time
// with no reads, no decisions and no Lua, so it is a floor for the job, not a rival program.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace casekit::bench {

struct DomainReplay {
  double seconds = 0;  // the inserts and commits only: reading the source is not timed
  // The domain tables whose rows in the copy are not the import's (by content, both ways):
  // none, or the yardstick wrote something else and the ratio is not judged.
  std::vector<std::string> differing;
};

// The tables the import writes that are its own machinery rather than the casework: its
// instances, their histories, sources and libraries, and the audit.
bool is_domain_table(const std::string& name);

// Copies the domain rows of `from` (a database an import left) into `to` (created with the
// schema, audit off), committing `transactions` times as the import did. Tables a trigger
// fills (work_item_counts, casegroup_name_keys) are filled by their triggers as the rows go
// in, as they were for the import; the durable tables the domain's foreign keys name
// (instances, procedure sources, libraries) are copied first, untimed.
DomainReplay replay_domain_rows(const std::filesystem::path& from, const std::filesystem::path& to,
                                std::int64_t transactions);

}  // namespace casekit::bench
