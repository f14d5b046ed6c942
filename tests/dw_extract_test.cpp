// The Data Warehouse extract: what the row validator accepts and the one reason it gives for
// each kind of bad row; the synthetic extract generator.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "engine/transition/dw_extract.hpp"
#include "engine/transition/dw_generate.hpp"
#include "tests/dw_support.hpp"

using namespace casekit;
using nlohmann::json;

namespace {

std::string reason_for(const json& row) {
  const auto parsed = parse_dw_row(row.dump());
  const auto* bad = std::get_if<DwRowError>(&parsed);
  return bad ? bad->reason : "accepted";
}

}  // namespace

TEST_CASE("dw extract: a complete row is accepted with its balances") {
  json row = test::dw_row("CSA-0000042");
  row["receiving_parents"].push_back(test::dw_rp("AB000003A", 5000, 0, 700));
  row["sos"]["active"] = 900;
  const auto parsed = parse_dw_row(row.dump());
  REQUIRE(std::holds_alternative<DwRow>(parsed));
  const auto& r = std::get<DwRow>(parsed);
  CHECK(r.csa_ref == "CSA-0000042");
  CHECK(r.extract_date == "2026-11-20");
  REQUIRE(r.receiving_parents.size() == 2);
  CHECK(r.receiving_parents[0].active == 125000);
  CHECK(r.receiving_parents[0].deferred == 2500);
  CHECK(r.receiving_parents[1].total() == 5700);
  CHECK(r.sos.active == 900);
  CHECK(r.total() == 125000 + 2500 + 5700 + 900);
}

TEST_CASE("dw extract: nulls the format allows are accepted") {
  json row = test::dw_row("CSA-0000042");
  row["method_of_payment"] = nullptr;
  row["paying_parent"]["employment_status"] = nullptr;
  row["paying_parent"]["benefit"] = nullptr;
  row["paying_parent"]["address"] = {{"line1", "No fixed abode"}, {"status", "NFA"}};
  CHECK(reason_for(row) == "accepted");
}

TEST_CASE("dw extract: each kind of bad row gets one reason naming the field") {
  json row = test::dw_row("CSA-0000042");
  struct Case {
    std::function<void(json&)> spoil;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {[](json& r) { r["paying_parent"].erase("nino"); }, "paying_parent.nino: missing"},
      {[](json& r) { r["paying_parent"]["nino"] = ""; }, "paying_parent.nino: missing (empty)"},
      {[](json& r) { r["paying_parent"]["nino"] = "AB12345"; },
       "paying_parent.nino: 'AB12345' is not a National Insurance number"},
      {[](json& r) { r["receiving_parents"][0]["arrears"]["active"] = -500; },
       "receiving_parents[1].arrears.active: -500 is negative"},
      {[](json& r) { r["receiving_parents"][0]["arrears"]["suspended"] = 12.5; },
       "receiving_parents[1].arrears.suspended: 12.5 is not a whole number of pence"},
      {[](json& r) { r["receiving_parents"][0]["arrears"]["deferred"] = 100.0; },
       "receiving_parents[1].arrears.deferred: 100.0 is not a whole number of pence"},
      {[](json& r) { r["sos"]["active"] = "12.50"; },
       "sos.active: \"12.50\" is not an amount in pence"},
      {[](json& r) { r["sos"]["deferred"] = 99'000'000'000; },
       "sos.deferred: 99000000000 is larger than any real balance"},
      {[](json& r) { r["region"] = "Wales"; }, "region: 'Wales' is not one of E&W, Scotland, NI"},
      {[](json& r) { r["receiving_parents"] = json::array(); },
       "receiving_parents: none (a casegroup needs a receiving parent)"},
      {[](json& r) { r.erase("receiving_parents"); }, "receiving_parents: missing"},
      {[](json& r) { r["method_of_payment"] = "cash"; },
       "method_of_payment: 'cash' is not one of DD, SO, DEO, DFB"},
      {[](json& r) { r["paying_parent"]["address"]["status"] = "lost"; },
       "paying_parent.address.status: 'lost' is not one of confirmed, DLO, NFA, JPAC"},
      {[](json& r) { r["paying_parent"]["address"].erase("postcode"); },
       "paying_parent.address.postcode: missing"},
      {[](json& r) { r["paying_parent"]["dob"] = "1980-02-30"; },
       "paying_parent.dob: '1980-02-30' is not a date (YYYY-MM-DD)"},
      {[](json& r) { r["enforcement_ongoing"] = "no"; },
       "enforcement_ongoing: expected true or false, got \"no\""},
      {[](json& r) { r["csa_ref"] = "1234"; },
       "csa_ref: '1234' is not a CSA reference (CSA- and digits)"},
      {[](json& r) { r["sos"]["jurisdiction"] = "FR"; },
       "sos.jurisdiction: 'FR' is not one of GB, NI"},
      {[](json& r) { r["receiving_parents"][0]["nino"] = r["paying_parent"]["nino"]; },
       "receiving_parents[1].nino: AB000000A appears twice in the casegroup"},
      {[](json& r) { r.erase("sos"); }, "sos: missing"},
  };
  for (const auto& c : cases) {
    json bad = row;
    c.spoil(bad);
    INFO(bad.dump());
    CHECK(reason_for(bad) == c.reason);
  }
}

TEST_CASE("dw extract: a line that is not JSON, or not an object, is refused") {
  auto parsed = parse_dw_row(R"({"csa_ref":"CSA-0000001","region":)");
  REQUIRE(std::holds_alternative<DwRowError>(parsed));
  CHECK_THAT(std::get<DwRowError>(parsed).reason, Catch::StartsWith("not valid JSON (at byte"));
  CHECK_FALSE(std::get<DwRowError>(parsed).csa_ref);
  parsed = parse_dw_row("[1, 2]");
  CHECK(std::get<DwRowError>(parsed).reason == "expected a JSON object");
  // A row that names its casegroup keeps the reference for the exceptions report.
  json row = test::dw_row("CSA-0000077");
  row["region"] = "Wales";
  parsed = parse_dw_row(row.dump());
  CHECK(std::get<DwRowError>(parsed).csa_ref == "CSA-0000077");
}

TEST_CASE("dw generate: the same seed writes the same extract, and good rows pass") {
  const auto generate = [](std::uint64_t seed, double bad) {
    std::ostringstream out;
    const auto counts = generate_dw_extract(out, {400, seed, bad, "2026-11-20"});
    return std::make_pair(out.str(), counts);
  };
  const auto [a, counts] = generate(7, 0.1);
  CHECK(a == generate(7, 0.1).first);
  CHECK(a != generate(8, 0.1).first);
  CHECK(counts.rows == 400);
  std::istringstream lines(a);
  std::string line;
  int bad = 0;
  int multiple_rps = 0;
  int enforcement = 0;
  std::set<std::string> reasons;
  while (std::getline(lines, line)) {
    const auto parsed = parse_dw_row(line);
    if (const auto* e = std::get_if<DwRowError>(&parsed)) {
      ++bad;
      reasons.insert(e->reason.substr(0, e->reason.find(':')));
      continue;
    }
    const auto& r = std::get<DwRow>(parsed);
    multiple_rps += r.receiving_parents.size() > 1;
    enforcement += r.json["enforcement_ongoing"].get<bool>();
  }
  // Exactly the rows the generator spoiled are refused, and the defects vary.
  CHECK(bad == counts.bad);
  CHECK(bad > 20);
  CHECK(reasons.size() >= 5);
  CHECK(multiple_rps > 20);
  CHECK(enforcement > 10);
}

TEST_CASE("dw generate: bad arguments are refused") {
  std::ostringstream out;
  CHECK_THROWS_WITH(generate_dw_extract(out, {10, 1, 1.5, "2026-11-20"}),
                    Catch::Contains("--bad-ratio must be between 0 and 1"));
  CHECK_THROWS_WITH(generate_dw_extract(out, {-1, 1, 0, "2026-11-20"}),
                    Catch::Contains("--count must not be negative"));
}
