#!/usr/bin/env bash
# `make demo`: a fresh database on a simulated clock, the demo data, and the missed-payment
# monitor run twice (the second run must raise nothing), then what it changed; then a
# durable procedure that waits on people and on time.
set -euo pipefail
casekit=$1
db=$2
mkdir -p "$(dirname "$db")"
outbox="$(dirname "$db")/outbox"
rm -rf "$outbox"
export CASEKIT_DB=$db

step() { printf '\n\033[1m$ casekit %s\033[0m\n' "$*"; "$casekit" "$@"; }
# The id of the newest open work item of a kind (the third column of `task list`), or with
# `first` the oldest.
task_id() {
  "$casekit" task list | awk -v kind="$1" -v which="${2:-last}" \
    '$3 == kind { id = $1; if (which == "first") exit } END { print id }'
}
# A step that is meant to be refused: shows the refusal and carries on.
refused() { printf '\n\033[1m$ casekit %s\033[0m\n' "$*"; if "$casekit" "$@"; then exit 1; fi; }

step init --force --simulated-clock 2026-11-20T07:00:00Z
step exec scripts/demo_seed.lua
step casegroup list
step exec scripts/missed_payment_monitor.lua
step exec scripts/missed_payment_monitor.lua
step sr list
step sr show 1
step casegroup show --csa-ref CSA-1005
step letters list
step letters fulfil --outbox "$outbox"
printf '\n\033[1m$ cat %s\033[0m\n' "$(ls "$outbox"/*.txt | head -1)"
cat "$(ls "$outbox"/*.txt | head -1)"
# The monitor started arrears negotiation (source 000) on each SR it raised. On SR 1 the
# paying parent says they paid the receiving parent directly (000 step 5).
step user add carl --role caseworker --team Arrears </dev/null  # no password: the demo works on the CLI
step user add erin --role caseworker --team Enforcement </dev/null
step task list
step task complete "$(task_id missed_payment_call first)" --outcome "direct payment claimed" --as carl
step task complete "$(task_id confirm_direct_payment)" --outcome no_contact --as carl
refused task complete "$(task_id direct_payment_evidence)" --outcome acceptable --as carl
step task complete "$(task_id direct_payment_evidence)" --outcome acceptable --field "evidence=bank statement, 3 Nov" --field amount=5000 --field paid_on=2026-11-03 --as carl
step clock advance 1d
step task complete "$(task_id offer_direct_pay)" --outcome agreed --as carl
step instance show 1

# One casegroup's journey: transitioned from the CSA (002/003), its arrears negotiated (000),
# a collection missed, negotiation fails, and a case-routing decision in enforcement (001).
journey="$(dirname "$db")/journey.jsonl"
cat >"$journey" <<'ROW'
{"csa_ref":"CSA-9000001","extract_date":"2026-11-21","region":"E&W","paying_parent":{"nino":"ZX900001A","name":"Jordan Price","dob":"1984-05-06","address":{"line1":"14 Canal Street","town":"Leeds","postcode":"LS1 4AB","status":"confirmed"},"employment_status":"employed","benefit":null},"method_of_payment":"SO","enforcement_ongoing":false,"csa_case_active":true,"receiving_parents":[{"nino":"ZX900002A","name":"Casey Price","address":{"line1":"3 Park View","town":"Leeds","postcode":"LS6 2QT","status":"confirmed"},"writeoff_requested":false,"arrears":{"active":240000,"suspended":0,"deferred":0}}],"sos":{"jurisdiction":"GB","active":0,"suspended":0,"deferred":0}}
ROW
step import dw "$journey"
cg=$("$casekit" casegroup show --csa-ref CSA-9000001 --json | sed -n 's/^  "id": \([0-9]*\),$/\1/p')
step task list --inbox caseworker
# An arrears-only casegroup: the receiving parent's payment details come before negotiating.
step task complete "$(task_id receiving_parent_payment_details)" --outcome obtained --field "note=bank details taken on the call" --as carl
step task complete "$(task_id negotiate_schedule)" --outcome agreed --field amount_per_period=10000 --field first_collection_date=2026-12-01 --field schedule_acceptable=yes --as carl
# It has never been scheduled: the Employer Interface is issued by hand first.
step task complete "$(task_id employer_interface)" --outcome issued --as carl
step letters fulfil --outbox "$outbox"
step clock advance 1d
step casegroup show "$cg"
# No payment on 1 December: the monitor raises a missed payment the next morning.
step clock advance 10d
step sr list
step task complete "$(task_id missed_payment_call)" --outcome "not willing" --field "missed_payment_reason=lost overtime" --as carl
step task complete "$(task_id negotiation_outcome)" --outcome "No pay" --as carl
step task complete "$(task_id negotiation_unsuccessful)" --outcome "Refusal to pay - Missed Initial Payment" --as carl
# The case goes to enforcement: the case manager pauses it until a review date, and the
# review-date monitor raises a fresh case-routing SR when it falls.
step start case_routing --casegroup "$cg" --param "reason=Case transferred to enforcement" --as erin
step task complete "$(task_id review_history)" --outcome accept --as erin
step task complete "$(task_id gather_information)" --outcome complete --field "welfare_of_the_child=no adverse effect on the children" --as erin
step task complete "$(task_id decide_next_action)" --outcome "Pause Enforcement Action" --field "reason=paying parent starting a new job" --field review_date=2026-12-20 --as erin
step clock advance 19d
step casegroup show "$cg"
step audit --casegroup "$cg" --limit 2
step task list --inbox caseworker

# Phase-2 transition of a Data Warehouse extract (sources 002 and 003).
extract="$(dirname "$db")/extract.jsonl"
step dw generate --count 200 --seed 7 --bad-ratio 0.05 -o "$extract"
step import dw "$extract"
step import dw "$extract" --json
step exceptions report
step schedule run transition-exceptions
step casegroup show --csa-ref CSA-0000001
step task list --inbox case_owner
printf '\nDatabase: %s (try: %s --db %s casegroup show --csa-ref CSA-1001 --json)\n' "$db" "$casekit" "$db"
