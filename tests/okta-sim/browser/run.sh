#!/bin/sh
# Headless Chromium signs in through okta-sim's OpenID provider (login.mjs).
# Needs `chromium` and Node 20+ on PATH; builds the simulator first.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cargo build -q -p okta-sim --manifest-path "$root/Cargo.toml"
exec node --experimental-websocket --no-warnings "$here/login.mjs" "$root/target/debug/okta-sim"
