#!/usr/bin/env bash
# The official Okta Python SDK (PrivateKey mode + DPoP) against okta-sim.
# Makes its own venv under target/ (okta==$OKTA_SDK_VERSION from PyPI), builds the
# simulator, runs oauth_dpop.py. Usage: tests/okta-sim/sdk/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
version=${OKTA_SDK_VERSION:-3.4.6}
venv="$root/target/okta-sdk-$version"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "okta==$version"
fi
(cd "$root" && cargo build --quiet -p okta-sim --bin okta-sim)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$venv/bin/python" "$root/tests/okta-sim/sdk/oauth_dpop.py" "$root/target/debug/okta-sim" "$scratch"
