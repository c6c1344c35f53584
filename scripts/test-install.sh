#!/usr/bin/env bash
# Proves the install routes on this machine (as root): package.xml is current, ./configure
# explains a missing cargo, `pecl package` + `pecl install` build and install the extension,
# and the Debian enablement makes plain `php` load it. Undoes the enablement at the end.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
check() {
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok - $name"
    else
        failed=$((failed + 1))
        echo "not ok - $name"
    fi
}

work=$(mktemp -d)
cleanup() {
    scripts/enable-extension.sh --disable >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

git ls-files | tar -cf - -T - | (mkdir -p "$work/src" && tar -xf - -C "$work/src")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

package_xml_is_current() { diff -u package.xml <(php scripts/package-xml.php); }
configure_explains_missing_cargo() {
    (cd "$work/src" && phpize >/dev/null && ! ./configure --with-cargo=/nonexistent/cargo >"$work/configure.log" 2>&1) &&
        grep -q "cargo was not found" "$work/configure.log" &&
        (cd "$work/src" && phpize --clean >/dev/null)
}
pecl_package_and_install() {
    (cd "$work/src" && pecl package package.xml >"$work/pecl-package.log" 2>&1) &&
        pecl install -f "$work/src/reverb_rs-$version.tgz" </dev/null >"$work/pecl-install.log" 2>&1 &&
        test -f "$(php-config --extension-dir)/reverb_rs.so" ||
        { tail -20 "$work/pecl-package.log" "$work/pecl-install.log" 2>/dev/null; false; }
}
# Outputs are captured first: `grep -q` stops reading early, which pipefail would report.
debian_enablement_loads_it() {
    scripts/enable-extension.sh >/dev/null && grep -qx reverb_rs <<<"$(php -m)"
}
introspection_works() {
    grep -q "^version => $version" <<<"$(php --ri reverb_rs)" &&
        grep -q 'final class ReverbRs\\Server' <<<"$(php --re reverb_rs)"
}

check "package.xml lists what scripts/package-xml.php lists" package_xml_is_current
check "./configure explains a missing cargo" configure_explains_missing_cargo
check "pecl package and pecl install build and install reverb_rs.so" pecl_package_and_install
check "an ini in mods-available and phpenmod enable it for plain php" debian_enablement_loads_it
check "php --ri and php --re describe the extension" introspection_works

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
