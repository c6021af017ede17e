#!/usr/bin/env bash
# Makes sure the Chromium that the browser tests drive (Debian's package, /usr/bin/chromium) is
# installed; installs it with apt-get when it is missing and we may. Quiet when all is well.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

fail() {
    echo "ensure-browser: $*" >&2
    exit 1
}

[[ -x $CHROMIUM ]] && exit 0

# shellcheck source=scripts/lib/apt.sh
source "$(dirname "$0")/lib/apt.sh"

if ! may_apt_install; then
    fail "the browser tests need Chromium at $CHROMIUM, which is missing and cannot be installed from here (apt-get as root or password-less sudo); install it (Debian: apt-get install chromium) and run the tests again."
fi

echo "ensure-browser: installing Chromium for the browser tests (apt-get install chromium)..."
apt_install chromium \
    || fail "apt-get install chromium failed (see above); install Chromium at $CHROMIUM and run the tests again."
[[ -x $CHROMIUM ]] || fail "apt-get installed chromium, but $CHROMIUM is still missing; install Debian's chromium package there and run the tests again."
