// An activation's commands as one stored value (schema 37): each command's name, script line
// (by its id in script_lines), arguments and result, framed by length and compressed with
// zlib. A history row per command cost more than its content (keys, cell headers, half-empty
// pages, and an ended instance's rows deleted one b-tree entry at a time); an activation's
// commands repeat the same names and keys, and compress to about a third. One of under 256
// bytes is kept as it is, after '='.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace casekit {

struct StoredCommand {
  std::string name;
  std::int64_t line_id = 0;
  std::string args;                   // JSON, byte for byte as recorded
  std::optional<std::string> result;  // none while a wait has not ended
};

// Compresses and expands histories with zlib streams it keeps: starting a stream allocates
// and clears a quarter of a megabyte, which once an activation cost a quarter of the time an
// instance takes to reach its first wait. One for each InstanceStore; not shared between
// threads.
class HistoryCodec {
 public:
  HistoryCodec();
  ~HistoryCodec();
  HistoryCodec(const HistoryCodec&) = delete;
  HistoryCodec& operator=(const HistoryCodec&) = delete;

  // The compressed value for these commands.
  std::string encode(const std::vector<StoredCommand>& commands);
  // The commands back; an Error (storage) naming `what` when the value is not one encode
  // wrote.
  std::vector<StoredCommand> decode(std::string_view blob, std::string_view what);

 private:
  struct Streams;
  std::unique_ptr<Streams> streams_;
};

// The same with a codec of their own, for one-off use (a migration, a test).
std::string encode_commands(const std::vector<StoredCommand>& commands);
std::vector<StoredCommand> decode_commands(std::string_view blob, std::string_view what);

}  // namespace casekit
