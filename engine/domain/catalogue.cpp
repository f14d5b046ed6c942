#include "engine/domain/catalogue.hpp"

#include <set>

#include <toml++/toml.h>
#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"

namespace casekit {
namespace {

toml::table parse_toml(const std::filesystem::path& file) {
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << file.string() << ":" << e.source().begin.line << ": " << e.description();
    throw Error(ErrorCode::invalid, where.str());
  }
}

std::string required_string(const toml::table& t, const char* key,
                            const std::filesystem::path& file) {
  auto value = t[key].value<std::string>();
  if (!value || value->empty()) {
    const auto line = t.source().begin.line;
    throw Error(ErrorCode::invalid,
                file.string() + ":" + std::to_string(line) + ": entry is missing '" + key + "'");
  }
  return *value;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::io, "cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

bool works_casegroups(std::string_view role) {
  return role == "caseworker" || role == "team_leader" || role == "senior_manager" ||
         role == "operator";
}

bool reads_metrics(std::string_view role) {
  return role == "operator";
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

SrCatalogue SrCatalogue::load(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) {
    throw Error(ErrorCode::io, "SR catalogue not found: " + file.string());
  }
  toml::table doc = parse_toml(file);
  SrCatalogue catalogue;
  if (auto* statuses = doc["statuses"].as_array()) {
    for (const auto& s : *statuses) {
      if (auto v = s.value<std::string>()) catalogue.statuses_.push_back(*v);
    }
  }
  if (catalogue.statuses_.empty()) {
    throw Error(ErrorCode::invalid, file.string() + ": 'statuses' must list the SR statuses");
  }
  auto* types = doc["sr"].as_array();
  if (!types || types->empty()) {
    throw Error(ErrorCode::invalid, file.string() + ": no [[sr]] entries");
  }
  for (const auto& node : *types) {
    const auto* t = node.as_table();
    if (!t) throw Error(ErrorCode::invalid, file.string() + ": [[sr]] entries must be tables");
    catalogue.types_.push_back(
        {required_string(*t, "process", file), required_string(*t, "area", file),
         required_string(*t, "sub_area", file), (*t)["owner_team"].value_or(std::string())});
  }
  return catalogue;
}

std::vector<std::string> SrCatalogue::teams() const {
  std::set<std::string> teams;
  for (const auto& t : types_) {
    if (!t.owner_team.empty()) teams.insert(t.owner_team);
  }
  return {teams.begin(), teams.end()};
}

std::optional<SrType> SrCatalogue::find(std::string_view process, std::string_view area,
                                        std::string_view sub_area) const {
  for (const auto& t : types_) {
    if (iequals(t.process, process) && iequals(t.area, area) && iequals(t.sub_area, sub_area)) {
      return t;
    }
  }
  return std::nullopt;
}

SrType SrCatalogue::require(std::string_view process, std::string_view area,
                            std::string_view sub_area) const {
  if (auto t = find(process, area, sub_area)) return *t;
  std::string message = "unknown SR type '" + std::string(process) + " / " + std::string(area) +
                        " / " + std::string(sub_area) + "'";
  std::string known;
  for (const auto& t : types_) {
    if (iequals(t.process, process) && iequals(t.area, area)) {
      known += (known.empty() ? "" : ", ") + t.sub_area;
    }
  }
  if (!known.empty()) message += "; sub areas of that area are: " + known;
  throw Error(ErrorCode::bad_argument, message);
}

std::optional<std::string> SrCatalogue::status(std::string_view name) const {
  for (const auto& s : statuses_) {
    if (iequals(s, name)) return s;
  }
  return std::nullopt;
}

LetterCatalogue LetterCatalogue::load(const std::filesystem::path& dir) {
  const auto index = dir / "letters.toml";
  if (!std::filesystem::exists(index)) {
    throw Error(ErrorCode::io, "letter catalogue not found: " + index.string());
  }
  toml::table doc = parse_toml(index);
  LetterCatalogue catalogue;
  auto* letters = doc["letter"].as_array();
  if (!letters) throw Error(ErrorCode::invalid, index.string() + ": no [[letter]] entries");
  for (const auto& node : *letters) {
    const auto* t = node.as_table();
    if (!t) throw Error(ErrorCode::invalid, index.string() + ": [[letter]] entries must be tables");
    LetterTemplate tpl;
    tpl.code = required_string(*t, "code", index);
    tpl.title = required_string(*t, "title", index);
    tpl.recipient = required_string(*t, "recipient", index);
    tpl.purpose = (*t)["purpose"].value_or(std::string());
    tpl.sign_off = (*t)["sign_off"].value_or(false);
    if (tpl.recipient != "paying_parent" && tpl.recipient != "receiving_parent" &&
        tpl.recipient != "any") {
      throw Error(ErrorCode::invalid, index.string() + ": letter " + tpl.code +
                                          ": recipient must be paying_parent, "
                                          "receiving_parent or any");
    }
    tpl.body = read_file(dir / (tpl.code + ".mustache"));
    catalogue.templates_.push_back(std::move(tpl));
  }
  return catalogue;
}

const LetterTemplate* LetterCatalogue::find(std::string_view code) const {
  for (const auto& t : templates_) {
    if (t.code == code) return &t;
  }
  return nullptr;
}

const LetterTemplate& LetterCatalogue::require(std::string_view code) const {
  if (const auto* t = find(code)) return *t;
  throw Error(ErrorCode::bad_argument, "unknown letter template '" + std::string(code) + "'");
}

InboxCatalogue InboxCatalogue::load(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) {
    throw Error(ErrorCode::io, "inbox catalogue not found: " + file.string());
  }
  toml::table doc = parse_toml(file);
  InboxCatalogue catalogue;
  for (const auto& [key, node] : doc) {
    const auto* t = node.as_table();
    const auto line = std::to_string(node.source().begin.line);
    if (!t)
      throw Error(ErrorCode::invalid, file.string() + ":" + line + ": expected [inbox] table");
    Inbox inbox{
        std::string(key.str()),
        t->get_as<std::string>("description") ? t->get_as<std::string>("description")->get() : "",
        {}};
    if (const auto* roles = (*t)["roles"].as_array()) {
      for (const auto& r : *roles) {
        const auto role = r.value<std::string>();
        const bool known =
            role && std::find(std::begin(kRoles), std::end(kRoles), *role) != std::end(kRoles);
        if (!known) {
          throw Error(ErrorCode::invalid, file.string() + ":" + line + ": inbox '" + inbox.name +
                                              "' names an unknown role");
        }
        inbox.roles.push_back(*role);
      }
    }
    if (inbox.roles.empty()) {
      throw Error(ErrorCode::invalid,
                  file.string() + ":" + line + ": inbox '" + inbox.name + "' needs roles = [...]");
    }
    if (const auto* minutes = (*t)["minutes_per_item"].node()) {
      const auto value = minutes->value_exact<std::int64_t>();
      if (!value || *value < 1 || *value > 10'000) {
        throw Error(ErrorCode::invalid, file.string() + ":" + line + ": inbox '" + inbox.name +
                                            "': minutes_per_item must be a whole number of "
                                            "minutes, 1 to 10000");
      }
      inbox.minutes_per_item = static_cast<int>(*value);
    }
    catalogue.inboxes_.push_back(std::move(inbox));
  }
  return catalogue;
}

const Inbox* InboxCatalogue::find(std::string_view name) const {
  for (const auto& i : inboxes_) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

const Inbox& InboxCatalogue::require(std::string_view name) const {
  if (const Inbox* i = find(name)) return *i;
  std::vector<std::string> known;
  for (const auto& i : inboxes_) known.push_back(i.name);
  throw Error(ErrorCode::not_found, "unknown inbox '" + std::string(name) +
                                        "' (procedures/inboxes.toml has: " + joined(known) + ")");
}

}  // namespace casekit
