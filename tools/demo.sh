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
# A durable procedure: the paying parent on SR 1 claims a direct payment (source 000 step 5).
step user add carl --role caseworker
step start direct_payment_claim --casegroup 1 --param sr=1 --as carl
step task list
step task complete 1 --outcome no_contact --as carl
refused task complete 2 --outcome acceptable --as carl
step task complete 2 --outcome acceptable --field "evidence=bank statement, 3 Nov" --as carl
step clock advance 1d
step task complete 3 --outcome agreed --as carl
step instance show 1
step instance history 1
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
