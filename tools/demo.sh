#!/usr/bin/env bash
# `make demo`: a fresh database on a simulated clock, the demo data, and the missed-payment
# monitor run twice (the second run must raise nothing), then what it changed.
set -euo pipefail
casekit=$1
db=$2
mkdir -p "$(dirname "$db")"
outbox="$(dirname "$db")/outbox"
rm -rf "$outbox"
export CASEKIT_DB=$db

step() { printf '\n\033[1m$ casekit %s\033[0m\n' "$*"; "$casekit" "$@"; }

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
printf '\nDatabase: %s (try: %s --db %s casegroup show --csa-ref CSA-1001 --json)\n' "$db" "$casekit" "$db"
