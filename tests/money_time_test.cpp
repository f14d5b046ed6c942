#include <catch2/catch.hpp>

#include <limits>

#include "engine/core/error.hpp"
#include "engine/core/money.hpp"
#include "engine/core/text.hpp"
#include "engine/core/time.hpp"

using namespace casekit;

TEST_CASE("money arithmetic is checked at the edges of int64") {
  constexpr Pence max = std::numeric_limits<Pence>::max();
  constexpr Pence min = std::numeric_limits<Pence>::min();
  CHECK(money::add(125000, 2500) == 127500);
  CHECK(money::add(max - 1, 1) == max);
  CHECK_THROWS_AS(money::add(max, 1), Error);
  CHECK_THROWS_AS(money::sub(min, 1), Error);
  CHECK(money::mul(2500, 12) == 30000);
  CHECK_THROWS_AS(money::mul(max / 2 + 1, 2), Error);
  const Pence amounts[] = {100, 250, 5};
  CHECK(money::sum(amounts) == 355);
}

TEST_CASE("div_ceil rounds up: periods needed to clear arrears") {
  CHECK(money::div_ceil(100000, 5000) == 20);
  CHECK(money::div_ceil(100001, 5000) == 21);
  CHECK(money::div_ceil(0, 5000) == 0);
  CHECK(money::div_ceil(-100, 30) == -3);
  CHECK_THROWS_AS(money::div_ceil(100, 0), Error);
}

TEST_CASE("money formats as pounds with thousands separators") {
  CHECK(money::format(0) == "£0.00");
  CHECK(money::format(5) == "£0.05");
  CHECK(money::format(125050) == "£1,250.50");
  CHECK(money::format(-123456789) == "-£1,234,567.89");
  CHECK(money::format(std::numeric_limits<Pence>::min()) == "-£92,233,720,368,547,758.08");
}

TEST_CASE("parse_pence accepts only whole numbers") {
  CHECK(money::parse_pence("125000") == 125000);
  CHECK(money::parse_pence("-5") == -5);
  CHECK_THROWS_AS(money::parse_pence("12.5"), Error);
  CHECK_THROWS_AS(money::parse_pence("1e3"), Error);
  CHECK_THROWS_AS(money::parse_pence(""), Error);
  CHECK_THROWS_AS(money::parse_pence("99999999999999999999"), Error);
}

TEST_CASE("dates and instants parse strictly and format back") {
  CHECK(format_date(parse_date("2026-02-28")) == "2026-02-28");
  CHECK_THROWS_AS(parse_date("2026-02-30"), Error);
  CHECK_THROWS_AS(parse_date("2026-2-3"), Error);
  CHECK_THROWS_AS(parse_date("2026-02-03junk"), Error);
  CHECK(format_instant(parse_instant("2026-03-29T01:00:00Z")) == "2026-03-29T01:00:00Z");
  CHECK(format_instant(parse_instant("2026-03-29")) == "2026-03-29T00:00:00Z");
  for (const char* text : {"1999-12-31T23:59:59Z", "0042-07-04T12:34:56Z", "9999-12-31T23:59:59Z",
                           "2000-02-29T00:00:09Z", "1970-01-01T00:00:00Z"}) {
    CHECK(format_instant(parse_instant(text)) == text);
  }
  const Instant after_9999 = parse_instant("9999-12-31T23:59:59Z") + std::chrono::seconds(1);
  CHECK(format_instant(after_9999) == "10000-01-01T00:00:00Z");
  CHECK_THROWS_AS(parse_instant("2026-03-29T25:00:00Z"), Error);
  CHECK_THROWS_AS(parse_instant("2026-03-29 01:00:00"), Error);
}

TEST_CASE("calendar arithmetic clamps month ends") {
  CHECK(format_date(add_months(parse_date("2026-01-31"), 1)) == "2026-02-28");
  CHECK(format_date(add_months(parse_date("2028-01-31"), 1)) == "2028-02-29");
  CHECK(format_date(add_months(parse_date("2026-11-20"), 24)) == "2028-11-20");
  CHECK(format_date(add_days(parse_date("2026-12-25"), 14)) == "2027-01-08");
}

TEST_CASE("a simulated clock moves only when told") {
  SimulatedClock clock(parse_instant("2026-11-20T09:00:00Z"));
  CHECK(format_instant(clock.now()) == "2026-11-20T09:00:00Z");
  CHECK(format_date(clock.today()) == "2026-11-20");
  clock.set(parse_instant("2026-12-01T00:00:00Z"));
  CHECK(format_date(clock.today()) == "2026-12-01");
}

TEST_CASE("names fold without regard to case or accents, and are found from any word") {
  CHECK(fold_name("  Zoë   ŁUKASZ-Hughes ") == "zoe lukasz-hughes");
  CHECK(fold_name("Æsa Þórsdóttir Straße") == "aesa thorsdottir strasse");
  CHECK(fold_name("ŒUVRE Ĳssel") == "oeuvre ijssel");
  CHECK(fold_name("Ÿves Ž") == "yves z");
  CHECK(fold_name("Ωmega × 2") == "Ωmega × 2");  // outside Latin: kept as it is
  CHECK(fold_name("bad \xC3") == "bad \xC3");    // a broken sequence is kept byte for byte
  CHECK(name_keys("Daniel  Hughes Jr") ==
        std::vector<std::string>{"daniel hughes jr", "hughes jr", "jr"});
  CHECK(name_keys("   ").empty());
  CHECK(prefix_end("hug") == "huh");
  CHECK(prefix_end("a\xFF") == "b");
}

TEST_CASE("a role is written with its article") {
  CHECK(casekit::with_article("caseworker") == "a caseworker");
  CHECK(casekit::with_article("operator") == "an operator");
  CHECK(casekit::with_article("admin") == "an admin");
}
