#include "bindings/journal.hpp"

namespace casekit::lua {

Journal::Journal(std::vector<Command> history, bool verify_only, int format)
    : history_(std::move(history)),
      unsaved_from_(history_.size()),
      verify_only_(verify_only),
      format_(format) {}

std::string Journal::halt_message() const {
  if (divergence_) return "instance stopped: " + divergence_->message;
  return "instance stopped: end of the recorded history";
}

namespace {

std::string describe(const std::string& name, const std::string& args) {
  return name + " " + args;
}

}  // namespace

const Command* Journal::match(const std::string& name, const std::string& args,
                              const std::string& line) {
  const Command& recorded = history_[cursor_];
  if (recorded.name == name && recorded.args == args) {
    ++cursor_;
    return &recorded;
  }
  Divergence d;
  d.position = recorded.seq;
  d.expected = describe(recorded.name, recorded.args);
  d.found = describe(name, args);
  d.line = line;
  d.message = "replay diverged at command " + std::to_string(recorded.seq) + ": expected " +
              d.expected + " (recorded at " + recorded.line + "), found " + d.found + " at " + line;
  divergence_ = std::move(d);
  return nullptr;
}

void Journal::check_consumed(const std::string& how_it_ended) {
  if (divergence_ || cursor_ >= history_.size()) return;
  const Command& next = history_[cursor_];
  Divergence d;
  d.position = next.seq;
  d.expected = describe(next.name, next.args);
  d.found = how_it_ended;
  d.line = next.line;
  d.message = "replay diverged at command " + std::to_string(next.seq) + ": expected " +
              d.expected + " (recorded at " + next.line + "), but " + how_it_ended;
  divergence_ = std::move(d);
}

void Journal::record(std::string name, std::string args, std::optional<std::string> result,
                     std::string line) {
  const std::int64_t seq = history_.empty() ? 1 : history_.back().seq + 1;
  history_.push_back({seq, std::move(name), std::move(args), std::move(result), std::move(line)});
  cursor_ = history_.size();
}

void Journal::resolve_last(std::string result) {
  history_.back().result = std::move(result);
}

std::span<const Command> Journal::unsaved() const {
  return std::span(history_).subspan(unsaved_from_);
}

}  // namespace casekit::lua
