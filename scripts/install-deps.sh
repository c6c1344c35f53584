#!/usr/bin/env bash
# Installs what building and testing reverb-rs needs on Debian (bookworm): PHP 8.2 with its
# headers, pecl (php-pear) for the PECL route, libclang for the bindings, PHPUnit, Laravel
# (Debian's php-laravel-framework), Composer with the PHP extensions the Laravel 11 and 12 test apps need (curl, zip, sqlite3,
# intl), Chromium for the browser test, redis-server for the scaling tests, mariadb-server and
# php8.2-mysql for the database app provider's test, the Python pusher SDK and Prometheus
# client, and the Node.js packages in package.json. Installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(php8.2-cli php8.2-dev php8.2-xml php8.2-mbstring php8.2-curl php8.2-zip php8.2-sqlite3 php8.2-intl
    php8.2-mysql php-pear libclang-dev phpunit php-laravel-framework composer unzip iproute2 curl openssl nginx-light
    chromium redis-server mariadb-server)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo was not found. Install Rust 1.88 or later (https://rustup.rs) and run this again." >&2
    exit 1
fi

if ! python3 -c "import pusher, websocket, prometheus_client" 2>/dev/null; then
    echo "Installing Python packages: pusher websocket-client prometheus-client"
    python3 -m pip install --quiet --disable-pip-version-check pusher websocket-client prometheus-client 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages pusher websocket-client prometheus-client
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "Installing Node.js packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
fi
