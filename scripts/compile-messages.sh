#!/usr/bin/env bash
# Compiles the translation catalogues (locale/*/LC_MESSAGES/*.po) into the .mo files Django
# reads; the .mo files are built here, at install time, and never committed. Installs GNU
# gettext's msgfmt with apt-get when it is missing and we may. Quiet when all is well.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

fail() {
    echo "compile-messages: $*" >&2
    exit 1
}

# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

if ! command -v msgfmt >/dev/null; then
    if ! may_apt_install; then
        fail "the Burmese interface needs GNU gettext's msgfmt to compile its translations, and msgfmt is missing and cannot be installed from here (apt-get as root or password-less sudo); install gettext (Debian/Ubuntu: apt-get install gettext, macOS: brew install gettext) and run make again."
    fi
    echo "compile-messages: installing GNU gettext for the translations (apt-get install gettext)..."
    apt_install gettext \
        || fail "apt-get install gettext failed (see above); install GNU gettext (msgfmt) and run make again."
    command -v msgfmt >/dev/null || fail "apt-get installed gettext, but msgfmt is still not on the PATH; put it there and run make again."
fi

# Compiling reads only the .po files (no database); unchanged catalogues are skipped.
"$PYTHON" manage.py compilemessages --ignore=.venv --verbosity 0 \
    || fail "the translations could not be compiled (see the msgfmt error above); correct the .po file and run make again."
