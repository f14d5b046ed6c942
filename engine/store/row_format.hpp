// A record's columns, declared once: the SELECT list and the reader come from the same
// table, so the two cannot drift apart (a column added to one and not the other, or two
// swapped, would otherwise read the wrong field without a word).
//
//   const RowFormat kSrRow{column<&ServiceRequest::id>("id"),
//                          column<&ServiceRequest::process>("process"), ...};
//   auto st = db.prepare(kSrRow.select("FROM service_requests WHERE id = ?1"));
//   if (st.step()) return kSrRow.read(st);
//
// A field is read by its type: std::string and std::optional<std::string> from text,
// std::int64_t (ids, pence) and its optional from integers, bool and std::optional<bool>
// from 0/1. A field inside a member is named by its path (column<&WorkItem::spec,
// &WorkItemSpec::title>), and anything else (JSON in a text column) by a reader function.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "engine/store/database.hpp"

namespace casekit {

template <typename Record>
struct Column {
  const char* name;
  void (*read)(const Statement& st, int index, Record& record);
};

inline void read_column(const Statement& st, int i, std::string& out) {
  out = st.text(i);
}
inline void read_column(const Statement& st, int i, std::optional<std::string>& out) {
  out = st.optional_text(i);
}
inline void read_column(const Statement& st, int i, std::int64_t& out) {
  out = st.integer(i);
}
inline void read_column(const Statement& st, int i, std::optional<std::int64_t>& out) {
  out = st.optional_integer(i);
}
inline void read_column(const Statement& st, int i, bool& out) {
  out = st.integer(i) != 0;
}
inline void read_column(const Statement& st, int i, std::optional<bool>& out) {
  out = st.is_null(i) ? std::nullopt : std::optional(st.integer(i) != 0);
}

namespace row_detail {

template <typename>
struct member_of;
template <typename Record, typename Field>
struct member_of<Field Record::*> {
  using record = Record;
};

template <auto First, auto... Rest>
auto& field_of(auto& object) {
  if constexpr (sizeof...(Rest) == 0) {
    return object.*First;
  } else {
    return field_of<Rest...>(object.*First);
  }
}

}  // namespace row_detail

// The column `name`, read into the field at the end of the member path.
template <auto First, auto... Rest>
constexpr auto column(const char* name) {
  using Record = typename row_detail::member_of<decltype(First)>::record;
  return Column<Record>{name, [](const Statement& st, int i, Record& r) {
                          read_column(st, i, row_detail::field_of<First, Rest...>(r));
                        }};
}

// The column `name`, read by hand.
template <typename Record>
constexpr Column<Record> column(const char* name, void (*read)(const Statement&, int, Record&)) {
  return Column<Record>{name, read};
}

template <typename Record, std::size_t N>
class RowFormat {
 public:
  template <typename... Rest>
  explicit RowFormat(Column<Record> first, Rest... rest) : columns_{first, rest...} {
    for (const auto& c : columns_) list_ += (list_.empty() ? "" : ", ") + std::string(c.name);
  }

  // "id, process, ...": the columns in the order read() reads them.
  const std::string& list() const { return list_; }
  // "SELECT <list> <rest>", where rest names the table and the rows.
  std::string select(std::string_view rest) const {
    std::string sql = "SELECT " + list_ + " ";
    sql += rest;
    return sql;
  }
  // The record in the current row of a statement prepared from select().
  Record read(const Statement& st) const {
    Record record{};
    for (int i = 0; i < static_cast<int>(N); ++i) columns_[i].read(st, i, record);
    return record;
  }

 private:
  std::array<Column<Record>, N> columns_;
  std::string list_;
};

template <typename Record, typename... Rest>
RowFormat(Column<Record>, Rest...) -> RowFormat<Record, 1 + sizeof...(Rest)>;

}  // namespace casekit
