#!/usr/bin/env bash
# Installs the Debian packages casekit builds and runs with. Safe to run again:
# it asks apt only for what is missing, so a machine that has them all does nothing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  liblua5.4-dev            # Lua 5.4; we link the C++ build so Lua errors unwind C++ frames
  libsqlite3-dev sqlite3
  libmimalloc-dev          # the process allocator (glibc's malloc was a fifth of an import)
  libboost-dev             # Asio (event loop, timers)
  libspdlog-dev libfmt-dev
  catch2                   # v2, single header
  nlohmann-json3-dev
  libcli11-dev
  libkainjow-mustache-dev
  libtomlplusplus-dev
  libhowardhinnant-date-dev
  libsodium-dev            # Argon2id password hashes, random session tokens
  libssl-dev               # SHA-256 for the audit's hash chain (with the CPU's SHA instructions)
  zlib1g-dev               # instances' histories, an activation's commands compressed together
  tzdata                   # the IANA zones schedules run in
  chromium                 # the web pages' browser tests, driven by playwright-core
  fonts-liberation         # a font for pages in headless Chromium
)

# Node.js and npm install the web pages' assets (web/package-lock.json) and run their browser
# tests. The machine's own are used when present (Debian's npm is older than the lockfile's).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "casekit: installing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "casekit: these packages are missing and installing them needs root: sudo $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
