#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests that need one:
# start it if Debian's package is installed but stopped, install it (apt) if absent.
# Idempotent; prints what it did. Exits 0 with a warning if it cannot (not root, no apt).
set -uo pipefail
ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if command -v pg_isready >/dev/null && ready; then
  echo "ensure-postgres: PostgreSQL already answers on 127.0.0.1:5432"; exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo -n"
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  if command -v apt-get >/dev/null; then
    echo "ensure-postgres: installing Debian's postgresql package"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null \
      || { echo "ensure-postgres: WARNING: could not install postgresql"; exit 0; }
  else
    echo "ensure-postgres: WARNING: no apt-get; install PostgreSQL yourself"; exit 0
  fi
fi
ver="$(ls /etc/postgresql | sort -V | tail -1)"
conf="/etc/postgresql/$ver/main"
# Trust local loopback connections (test databases only) and listen on 127.0.0.1.
if ! grep -q "bastion-tests" "$conf/pg_hba.conf" 2>/dev/null; then
  $SUDO sh -c "printf '# bastion-tests\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' | cat - '$conf/pg_hba.conf' > '$conf/pg_hba.conf.new' && mv '$conf/pg_hba.conf.new' '$conf/pg_hba.conf'" || true
fi
$SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || $SUDO pg_ctlcluster "$ver" main start || true
for _ in $(seq 1 30); do ready && { echo "ensure-postgres: PostgreSQL $ver started"; exit 0; }; sleep 1; done
echo "ensure-postgres: WARNING: PostgreSQL did not come up"; exit 0
