#!/usr/bin/env bash
# The demo: the fixture Laravel app's chat page on :8000, with `php artisan reverb:start` on
# :8080, both with the freshly built extension. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
exec tests/laravel-app/serve.sh
