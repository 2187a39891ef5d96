"""The official Okta Python SDK against okta-sim: PrivateKey (private_key_jwt) mode
with DPoP fetches a token from the simulator's /oauth2/v1/token and pages every
user and group; then the same without DPoP against an app that does not require
it (a Bearer token).

Run through run.sh (it makes the venv and builds the simulator). Arguments: the
okta-sim binary and a scratch directory. Exits non-zero on any mismatch.
"""

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from okta.client import Client as OktaClient
from okta.pagination import PaginationHelper

CLIENT_ID = "0oaSdkServiceApp"
KID = "sdk-key-1"
USERS, GROUPS = 450, 12


def app_keys(scratch):
    """A fresh RSA key: the private PEM for the SDK, the public JWKS for okta-sim."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = json.loads(JWK.from_pem(pem.encode()).export_public())
    public.update({"kid": KID, "alg": "RS256", "use": "sig"})
    jwks_path = os.path.join(scratch, "sdk-app-jwks.json")
    with open(jwks_path, "w") as f:
        json.dump({"keys": [public]}, f)
    return pem, jwks_path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(binary, jwks_path, port, app_options):
    origin = f"http://127.0.0.1:{port}"
    args = [
        binary, "--port", str(port), "--public-origin", origin,
        "--users", str(USERS), "--groups", str(GROUPS),
        "--oauth-app", f"{CLIENT_ID}={jwks_path},scopes=okta.users.read+okta.groups.read{app_options}",
        "--log-requests",
    ]
    sim = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    for _ in range(2 + 1):
        line = sim.stdout.readline().strip()
        print("okta-sim:", line)
    return sim, origin


async def page_all(list_page):
    """Every item of a list, following the `after` cursor of each `next` link."""
    items, after, pages = [], None, 0
    while True:
        page, resp, err = await (list_page(after=after) if after else list_page())
        if err:
            raise SystemExit(f"SDK error on page {pages + 1}: {err}")
        items.extend(page)
        pages += 1
        after = PaginationHelper.extract_next_cursor(resp.headers)
        if not after:
            return items, pages


async def sync(origin, pem, dpop):
    client = OktaClient({
        "orgUrl": origin,
        "authorizationMode": "PrivateKey",
        "clientId": CLIENT_ID,
        "scopes": ["okta.users.read", "okta.groups.read"],
        "privateKey": pem,
        "kid": KID,
        "dpopEnabled": dpop,
    })
    async with client as okta:
        users, user_pages = await page_all(okta.list_users)
        groups, group_pages = await page_all(okta.list_groups)
        token, token_type = okta.get_request_executor()._oauth.get_current_token()
    return users, user_pages, groups, group_pages, token_type


def run(binary, pem, jwks_path, dpop):
    """One simulator, one SDK client; returns the client's token type."""
    sim, origin = start_simulator(binary, jwks_path, free_port(), "" if dpop else ",no-dpop")
    try:
        users, user_pages, groups, group_pages, token_type = asyncio.run(sync(origin, pem, dpop))
    finally:
        sim.send_signal(signal.SIGINT)
        log, _ = sim.communicate(timeout=30)
    print("okta-sim request log:")
    print(log, end="")
    print(f"token_type={token_type}")
    print(f"users={len(users)} in {user_pages} pages; groups={len(groups)} in {group_pages} pages")
    if not users or len(groups) != GROUPS + 1:
        raise SystemExit("FAILED: expected users and every group")
    return token_type


def main():
    binary, scratch = sys.argv[1], sys.argv[2]
    os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"
    logging.getLogger("okta-sdk-python").setLevel(logging.WARNING)
    pem, jwks_path = app_keys(scratch)
    if run(binary, pem, jwks_path, dpop=True) != "DPoP":
        raise SystemExit("FAILED: expected a DPoP token")
    print("OK: the Okta SDK fetched a DPoP-bound token with private_key_jwt and listed users and groups")
    print("--- without DPoP (app option no-dpop, dpopEnabled False)")
    if run(binary, pem, jwks_path, dpop=False) != "Bearer":
        raise SystemExit("FAILED: expected a Bearer token")
    print("OK: the Okta SDK fetched a Bearer token with private_key_jwt and listed users and groups")


if __name__ == "__main__":
    main()
