#include "engine/transition/dw_generate.hpp"

#include <array>
#include <random>

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"

namespace casekit {
namespace {

using nlohmann::json;

constexpr std::array kFirstNames = {"Amelia", "Oliver",   "Isla",  "Jack",  "Ava",   "Harry",
                                    "Mia",    "George",   "Ella",  "Noah",  "Grace", "Leo",
                                    "Sophie", "Callum",   "Freya", "Rhys",  "Niamh", "Ciaran",
                                    "Aisha",  "Mohammed", "Priya", "Arjun", "Zara",  "Kwame"};
constexpr std::array kSurnames = {
    "Smith",   "Jones",    "Williams", "Taylor",   "Brown",  "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts",  "Robinson", "Thompson", "Wright", "Walker", "White", "Hughes", "Edwards",
    "Green",   "Campbell", "Murphy",   "Kelly",    "Patel",  "Khan",   "Okafor"};
constexpr std::array kStreets = {"High Street", "Station Road", "Church Lane",   "Victoria Road",
                                 "Mill Lane",   "Park Avenue",  "Queen Street",  "Green Lane",
                                 "Manor Road",  "King's Road",  "Albert Street", "Brook Close"};
struct Town {
  const char* name;
  const char* postcode_area;
  const char* region;
};
constexpr std::array kTowns = {Town{"Leeds", "LS", "E&W"},       Town{"Bristol", "BS", "E&W"},
                               Town{"Cardiff", "CF", "E&W"},     Town{"Newcastle", "NE", "E&W"},
                               Town{"Norwich", "NR", "E&W"},     Town{"Plymouth", "PL", "E&W"},
                               Town{"Glasgow", "G", "Scotland"}, Town{"Dundee", "DD", "Scotland"},
                               Town{"Belfast", "BT", "NI"},      Town{"Derry", "BT", "NI"}};
// Prefix pairs HMRC issues; with the four suffixes they give unique NINOs for 20 million people.
constexpr std::array kNinoPrefixes = {"AB", "CE", "EH", "HJ", "JK"};

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  // Uniform enough for a demo file, and unlike std::uniform_int_distribution the same on
  // every standard library, so a seed means the same file everywhere.
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  double unit() { return static_cast<double>(rng_() >> 11) / 9007199254740992.0; }
  template <typename T, std::size_t N>
  const T& pick(const std::array<T, N>& from) {
    return from[below(N)];
  }

  static std::string nino(std::int64_t person) {
    const auto prefix = kNinoPrefixes[(person / 1'000'000) % kNinoPrefixes.size()];
    const char suffix =
        static_cast<char>('A' + (person / (1'000'000 * std::int64_t{kNinoPrefixes.size()})) % 4);
    char digits[8];
    std::snprintf(digits, sizeof digits, "%06lld", static_cast<long long>(person % 1'000'000));
    return std::string(prefix) + digits + suffix;
  }

  json address(const Town& town) {
    json a = {{"line1", std::to_string(1 + below(180)) + " " + pick(kStreets)},
              {"town", town.name},
              {"postcode", std::string(town.postcode_area) + std::to_string(1 + below(20)) + " " +
                               std::to_string(below(10)) + static_cast<char>('A' + below(26)) +
                               static_cast<char>('A' + below(26))}};
    const auto roll = below(100);
    a["status"] = roll < 94 ? "confirmed" : roll < 96 ? "DLO" : roll < 98 ? "NFA" : "JPAC";
    return a;
  }

  std::string name() { return std::string(pick(kFirstNames)) + " " + pick(kSurnames); }

  std::string dob(int from_year, int span) {
    char text[11];
    std::snprintf(text, sizeof text, "%04d-%02d-%02d", from_year + static_cast<int>(below(span)),
                  1 + static_cast<int>(below(12)), 1 + static_cast<int>(below(28)));
    return text;
  }

  // Whole pounds mostly, as CSA balances were; pence sometimes.
  std::int64_t amount(std::int64_t max_pounds) {
    const auto pounds = static_cast<std::int64_t>(below(static_cast<std::uint64_t>(max_pounds)));
    return pounds * 100 + (chance(30) ? static_cast<std::int64_t>(below(100)) : 0);
  }

  json arrears(bool owed) {
    if (!owed) return {{"active", 0}, {"suspended", 0}, {"deferred", 0}};
    return {{"active", amount(6000) + 100},
            {"suspended", chance(15) ? amount(800) : 0},
            {"deferred", chance(10) ? amount(400) : 0}};
  }

  json paying_parent(std::int64_t person, const Town& town) {
    const auto roll = below(100);
    const char* employment = roll < 55   ? "employed"
                             : roll < 65 ? "self-employed"
                             : roll < 80 ? "unemployed"
                                         : nullptr;
    json pp = {{"nino", nino(person)},
               {"name", name()},
               {"dob", dob(1965, 35)},
               {"address", address(town)}};
    pp["employment_status"] = employment ? json(employment) : json(nullptr);
    const std::array benefits = {"JSA", "ESA", "UC"};
    pp["benefit"] = (employment && std::string(employment) == "unemployed") ? json(pick(benefits))
                                                                            : json(nullptr);
    return pp;
  }

  json row(std::int64_t index, const std::string& extract_date, const json* previous) {
    const Town& town = pick(kTowns);
    char ref[32];
    std::snprintf(ref, sizeof ref, "CSA-%07lld", static_cast<long long>(index + 1));
    const bool owes = !chance(8);
    json row = {{"csa_ref", ref}, {"extract_date", extract_date}, {"region", town.region}};
    // A few paying parents have a second CSA casegroup (another receiving parent): the
    // transition links it to the casegroup the first one built.
    if (previous && chance(3)) {
      row["region"] = (*previous)["region"];
      row["paying_parent"] = (*previous)["paying_parent"];
    } else {
      row["paying_parent"] = paying_parent(index * 4, town);
    }
    const auto mop = below(100);
    row["method_of_payment"] = mop < 30   ? json("SO")
                               : mop < 60 ? json("DD")
                               : mop < 75 ? json("DEO")
                               : mop < 85 ? json("DFB")
                                          : json(nullptr);
    row["enforcement_ongoing"] = owes && chance(10);
    row["csa_case_active"] = chance(60);
    const auto rp_roll = below(100);
    const int rps = rp_roll < 80 ? 1 : rp_roll < 95 ? 2 : 3;
    json list = json::array();
    for (int i = 0; i < rps; ++i) {
      list.push_back({{"nino", nino(index * 4 + 1 + i)},
                      {"name", name()},
                      {"dob", dob(1968, 35)},
                      {"address", address(town)},
                      {"writeoff_requested", chance(4)},
                      {"arrears", arrears(owes && (i == 0 || chance(70)))}});
    }
    row["receiving_parents"] = std::move(list);
    const bool sos = owes && chance(15);
    row["sos"] = {{"jurisdiction", std::string(town.region) == "NI" ? "NI" : "GB"},
                  {"active", sos ? amount(1500) : 0},
                  {"suspended", 0},
                  {"deferred", sos && chance(20) ? amount(300) : 0}};
    return row;
  }

  // One defect of each kind the validator must catch, in turn.
  std::string spoil(json row) {
    switch (below(8)) {
      case 0: {
        std::string text = row.dump();
        return text.substr(0, text.size() / 2);  // cut off mid-row
      }
      case 1:
        row["paying_parent"].erase("nino");
        break;
      case 2:
        row["receiving_parents"][0]["arrears"]["active"] = -1 - amount(100);
        break;
      case 3:
        row["receiving_parents"][0]["arrears"]["active"] = 1250.5;
        break;
      case 4:
        row["sos"]["active"] = "12.50";
        break;
      case 5:
        row["region"] = "Wales";
        break;
      case 6:
        row["receiving_parents"] = json::array();
        break;
      default:
        row["paying_parent"]["dob"] = "1980-02-30";
        break;
    }
    return row.dump();
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace

DwGenerateCounts generate_dw_extract(std::ostream& out, const DwGenerateOptions& options) {
  if (options.count < 0) throw Error(ErrorCode::bad_argument, "--count must not be negative");
  if (options.count > 20'000'000) {
    throw Error(ErrorCode::bad_argument, "--count: at most 20,000,000 rows");
  }
  if (!(options.bad_ratio >= 0.0 && options.bad_ratio <= 1.0)) {
    throw Error(ErrorCode::bad_argument, "--bad-ratio must be between 0 and 1");
  }
  Generator gen(options.seed);
  DwGenerateCounts counts;
  json previous;
  for (std::int64_t i = 0; i < options.count; ++i) {
    json row = gen.row(i, options.extract_date, previous.is_null() ? nullptr : &previous);
    if (gen.unit() < options.bad_ratio) {
      out << gen.spoil(std::move(row)) << '\n';
      ++counts.bad;
    } else {
      out << row.dump() << '\n';
      previous = std::move(row);
    }
    ++counts.rows;
  }
  out.flush();
  if (!out) throw Error(ErrorCode::io, "could not write the extract");
  return counts;
}

}  // namespace casekit
