#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the console's browser tests
# (ConsoleE2ETest drives it with playwright-core; no browser is ever downloaded by npm).
# Installs Debian's `chromium` package with apt when missing. Idempotent; prints what it did.
# Exits 0 with a warning if it cannot (not root and no sudo, no apt): the test then fails saying so.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"; exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo -n"
if command -v apt-get >/dev/null; then
  echo "ensure-chromium: installing Debian's chromium package"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null \
    || { echo "ensure-chromium: WARNING: could not install chromium"; exit 0; }
  echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
else
  echo "ensure-chromium: WARNING: no apt-get; install Chromium at /usr/bin/chromium yourself"
fi
exit 0
