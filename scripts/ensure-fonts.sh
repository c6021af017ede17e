#!/usr/bin/env bash
# Makes sure the Myanmar font that Burmese payroll sheets (PDF) are set in is installed: Debian's
# fonts-sil-padauk, installed with apt-get when it is missing and we may. Without it Haven prints
# those sheets in English, so a missing font is a warning here, not a failure.
set -euo pipefail

FONT=/usr/share/fonts/truetype/padauk/Padauk-Regular.ttf
OTHER_FONT=/usr/share/fonts/truetype/noto/NotoSansMyanmar-Regular.ttf

[[ -f $FONT || -f $OTHER_FONT ]] && exit 0

warn() {
    echo "ensure-fonts: $* Burmese payroll sheets will be printed in English until it is." >&2
    exit 0
}

# shellcheck source=scripts/lib/apt.sh
source "$(dirname "$0")/lib/apt.sh"

if ! may_apt_install; then
    warn "the Myanmar font $FONT is missing and cannot be installed from here (apt-get as root or password-less sudo); install it (Debian: apt-get install fonts-sil-padauk)."
fi

echo "ensure-fonts: installing the Myanmar font for Burmese payroll sheets (apt-get install fonts-sil-padauk)..."
apt_install fonts-sil-padauk || warn "apt-get install fonts-sil-padauk failed (see above)."
[[ -f $FONT ]] || warn "fonts-sil-padauk is installed, but $FONT is missing."
