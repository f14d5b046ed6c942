#include "engine/store/history_blob.hpp"

#include <zlib.h>

#include <charconv>

#include "engine/core/error.hpp"

namespace casekit {

namespace {

// A field is its length in decimal, ':', then its bytes; a missing result is "-". Lengths,
// not separators: arguments are whatever a script passed.
void put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

[[noreturn]] void damaged(std::string_view what) {
  throw Error(ErrorCode::storage, std::string(what) + " is damaged: it cannot be read back");
}

class Reader {
 public:
  Reader(std::string_view text, std::string_view what) : text_(text), what_(what) {}
  bool done() const { return at_ == text_.size(); }

  std::optional<std::string> field() {
    if (at_ < text_.size() && text_[at_] == '-') {
      ++at_;
      return std::nullopt;
    }
    std::size_t length = 0;
    const char* begin = text_.data() + at_;
    const char* end = text_.data() + text_.size();
    const auto [colon, ec] = std::from_chars(begin, end, length);
    if (ec != std::errc() || colon == end || *colon != ':' ||
        static_cast<std::size_t>(end - colon - 1) < length) {
      damaged();
    }
    at_ = static_cast<std::size_t>(colon + 1 - text_.data());
    std::string out(text_.substr(at_, length));
    at_ += length;
    return out;
  }

  std::string required() {
    auto f = field();
    if (!f) damaged();
    return *f;
  }

  [[noreturn]] void damaged() const { casekit::damaged(what_); }

 private:
  std::string_view text_;
  std::string_view what_;
  std::size_t at_ = 0;
};

constexpr std::size_t kSmallestCompressed = 256;

std::vector<StoredCommand> read_commands(std::string_view plain, std::string_view what) {
  Reader in(plain, what);
  std::vector<StoredCommand> out;
  while (!in.done()) {
    StoredCommand c;
    c.name = in.required();
    const std::string line = in.required();
    const auto [line_end, line_ec] =
        std::from_chars(line.data(), line.data() + line.size(), c.line_id);
    if (line_ec != std::errc() || line_end != line.data() + line.size()) in.damaged();
    c.args = in.required();
    c.result = in.field();
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

struct HistoryCodec::Streams {
  z_stream deflater{};
  z_stream inflater{};
  bool deflating = false;
  bool inflating = false;
  ~Streams() {
    if (deflating) deflateEnd(&deflater);
    if (inflating) inflateEnd(&inflater);
  }
};

HistoryCodec::HistoryCodec() : streams_(std::make_unique<Streams>()) {}
HistoryCodec::~HistoryCodec() = default;

std::string HistoryCodec::encode(const std::vector<StoredCommand>& commands) {
  std::string plain;
  for (const auto& c : commands) {
    put(plain, c.name);
    put(plain, std::to_string(c.line_id));
    put(plain, c.args);
    if (c.result) {
      put(plain, *c.result);
    } else {
      plain += '-';
    }
  }
  // A short activation (a start that goes straight to its wait) gains nothing from zlib,
  // and compressing it cost more than the rest of keeping it: kept as it is, after '='.
  if (plain.size() < kSmallestCompressed) return "=" + plain;
  z_stream& z = streams_->deflater;
  if (!streams_->deflating) {
    // Level 1, a 4 KiB window and a small hash table: an activation's commands are a few
    // KiB, and each reset clears the table (zlib's default, 64 KiB, cost more than the
    // compressing); this gives the same size within 1% for a tenth of the work.
    if (deflateInit2(&z, 1, Z_DEFLATED, 12, 4, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error(ErrorCode::internal, "zlib could not start compressing");
    }
    streams_->deflating = true;
  } else {
    deflateReset(&z);
  }
  // The plain size first, so that reading knows how much room to give zlib.
  std::string out = std::to_string(plain.size()) + ":";
  const std::size_t header = out.size();
  out.resize(header + deflateBound(&z, static_cast<uLong>(plain.size())));
  z.next_in = reinterpret_cast<Bytef*>(plain.data());
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data() + header);
  z.avail_out = static_cast<uInt>(out.size() - header);
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
    throw Error(ErrorCode::internal, "zlib could not compress a history");
  }
  out.resize(header + z.total_out);
  return out;
}

std::vector<StoredCommand> HistoryCodec::decode(std::string_view blob, std::string_view what) {
  if (!blob.empty() && blob.front() == '=') return read_commands(blob.substr(1), what);
  std::size_t plain_size = 0;
  const auto colon = blob.find(':');
  if (colon == std::string_view::npos) damaged(what);
  const auto [end, ec] = std::from_chars(blob.data(), blob.data() + colon, plain_size);
  if (ec != std::errc() || end != blob.data() + colon) damaged(what);
  const auto compressed = blob.substr(colon + 1);
  // zlib cannot expand by more than about 1,032 times: a larger size is not one we wrote.
  if (plain_size > compressed.size() * 1100 + 64) damaged(what);
  z_stream& z = streams_->inflater;
  if (!streams_->inflating) {
    if (inflateInit(&z) != Z_OK) throw Error(ErrorCode::internal, "zlib could not start");
    streams_->inflating = true;
  } else {
    inflateReset(&z);
  }
  std::string plain(plain_size, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  z.next_out = reinterpret_cast<Bytef*>(plain.data());
  z.avail_out = static_cast<uInt>(plain.size());
  if (inflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out != plain_size || z.avail_in != 0) {
    damaged(what);
  }
  return read_commands(plain, what);
}

std::string encode_commands(const std::vector<StoredCommand>& commands) {
  return HistoryCodec().encode(commands);
}

std::vector<StoredCommand> decode_commands(std::string_view blob, std::string_view what) {
  return HistoryCodec().decode(blob, what);
}

}  // namespace casekit
