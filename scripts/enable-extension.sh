#!/usr/bin/env bash
# Enables the installed reverb_rs extension the Debian way: an ini file in mods-available and
# phpenmod for every SAPI of this PHP version (CLI, FPM, ...). The main php.ini is not edited.
#
#   scripts/enable-extension.sh            # after `make install` or `pecl install`
#   scripts/enable-extension.sh --disable  # phpdismod and remove the ini file
set -euo pipefail

version=$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')
ini="/etc/php/$version/mods-available/reverb_rs.ini"

if [ "${1:-}" = "--disable" ]; then
    phpdismod -v "$version" reverb_rs 2>/dev/null || true
    rm -f "$ini"
    echo "reverb_rs disabled for PHP $version"
    exit 0
fi

if [ ! -f "$(php-config --extension-dir)/reverb_rs.so" ]; then
    echo "reverb_rs.so is not in $(php-config --extension-dir): install it first (make install, or pecl install)." >&2
    exit 1
fi
cat > "$ini" <<'INI'
; reverb_rs: a Pusher-protocol WebSocket server running inside PHP (https://github.com/reverb-rs/reverb-rs)
; priority=20
extension=reverb_rs.so
INI
phpenmod -v "$version" reverb_rs
echo "reverb_rs enabled for PHP $version ($ini)"
