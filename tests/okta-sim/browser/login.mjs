// A real browser against the simulator's OpenID provider: headless Chromium,
// driven over the DevTools protocol (Node's WebSocket, no packages), opens the
// authorize URL, types a wrong password (refused on the form), then the right one,
// follows the redirect; this script exchanges the code with PKCE and verifies the
// ID token's RS256 signature with the JWKS (node:crypto) and its claims.
// Usage: node --experimental-websocket login.mjs OKTA_SIM_BINARY
import { spawn } from "node:child_process";
import { createHash, createPublicKey, randomBytes, verify } from "node:crypto";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((ok) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); });
});

const port = await freePort();
const issuer = `http://127.0.0.1:${port}`;
const callback = `${issuer}/callback`;
const sim = spawn(process.argv[2], ["--port", String(port), "--users", "30", "--groups", "2", "--seed", "7",
  "--public-origin", "auto", "--oidc-client", `0oaBrowser=browser-secret,redirect=${callback}`], { stdio: ["ignore", "pipe", "inherit"] });
sim.stdout.on("data", (d) => process.stdout.write(`okta-sim: ${d}`));
const profile = mkdtempSync(join(tmpdir(), "okta-sim-chromium-"));
const chrome = spawn("chromium", ["--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
  `--user-data-dir=${profile}`, "about:blank"], { stdio: "ignore" });
let cleaned = false;
const cleanup = () => {
  if (cleaned) return; cleaned = true; chrome.kill(); sim.kill();
  try { rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }); } catch { /* Chromium still writing */ }
};
process.on("exit", cleanup);

let devtools;
for (let i = 0; i < 100 && !devtools; i++) {
  const f = join(profile, "DevToolsActivePort");
  if (existsSync(f) && readFileSync(f, "utf8").includes("\n")) devtools = readFileSync(f, "utf8").split("\n")[0];
  else await sleep(100);
}
const target = await (await fetch(`http://127.0.0.1:${devtools}/json/new?about:blank`, { method: "PUT" })).json();
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((ok) => ws.addEventListener("open", ok));
let nextId = 0; const pending = new Map(); const waiters = [];
ws.addEventListener("message", (e) => {
  const m = JSON.parse(e.data);
  if (m.id !== undefined) pending.get(m.id)?.(m);
  else waiters.splice(0).forEach((w) => (w.method === m.method ? w.ok(m) : waiters.push(w)));
});
const cdp = (method, params = {}) => new Promise((ok) => { const id = ++nextId; pending.set(id, ok); ws.send(JSON.stringify({ id, method, params })); });
const event = (method) => new Promise((ok) => waiters.push({ method, ok }));
const evaluate = async (expression) => (await cdp("Runtime.evaluate", { expression, returnByValue: true })).result.result.value;
await cdp("Page.enable");

const verifier = b64url(randomBytes(32));
const challenge = b64url(createHash("sha256").update(verifier).digest());
const login = await (async () => { // the first ACTIVE user, from the Management API
  const users = await (await fetch(`${issuer}/api/v1/users?limit=5`, { headers: { Authorization: "SSWS test-token" } })).json();
  return users.find((u) => u.status === "ACTIVE").profile.login;
})();
const authorize = `${issuer}/oauth2/v1/authorize?` + new URLSearchParams({ client_id: "0oaBrowser", response_type: "code",
  scope: "openid profile email", redirect_uri: callback, state: "browser-state", nonce: "browser-nonce",
  code_challenge: challenge, code_challenge_method: "S256" });
const submit = async (password) => {
  const loaded = event("Page.loadEventFired");
  await evaluate(`document.getElementById("username").value = ${JSON.stringify(login)};
    document.getElementById("password").value = ${JSON.stringify(password)};
    document.getElementById("okta-signin-submit").click();`);
  await loaded;
};
let loaded = event("Page.loadEventFired");
await cdp("Page.navigate", { url: authorize });
await loaded;
console.log("page:", await evaluate("document.title"), "| form fields:", await evaluate(`[...document.forms[0].elements].map(e => e.name).join(" ")`));
await submit("wrong-password");
console.log("wrong password ->", await evaluate(`document.getElementById("okta-sim-error").textContent`));
await submit("Okta-Sim-Passw0rd!");
const landed = new URL(await evaluate("location.href"));
console.log("redirected to", landed.origin + landed.pathname, "state =", landed.searchParams.get("state"));
if (landed.searchParams.get("state") !== "browser-state") throw new Error("state");

const token = await (await fetch(`${issuer}/oauth2/v1/token`, { method: "POST",
  headers: { Authorization: "Basic " + Buffer.from("0oaBrowser:browser-secret").toString("base64"), "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ grant_type: "authorization_code", code: landed.searchParams.get("code"), redirect_uri: callback, code_verifier: verifier }) })).json();
const [h, p, s] = token.id_token.split(".");
const header = JSON.parse(Buffer.from(h, "base64url")); const claims = JSON.parse(Buffer.from(p, "base64url"));
const jwk = (await (await fetch(`${issuer}/oauth2/v1/keys`)).json()).keys.find((k) => k.kid === header.kid);
const signed = verify("RSA-SHA256", Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(s, "base64url"));
const ok = signed && claims.iss === issuer && claims.aud === "0oaBrowser" && claims.nonce === "browser-nonce" && claims.preferred_username === login;
console.log(`id_token: alg ${header.alg}, kid in JWKS: ${!!jwk}, signature ${signed ? "valid" : "INVALID"}; iss ${claims.iss}; aud ${claims.aud}; sub ${claims.sub}; preferred_username ${claims.preferred_username}; email ${claims.email}; name ${claims.name}; nonce ${claims.nonce}; exp-iat ${claims.exp - claims.iat}`);
console.log(ok ? "OK: Chromium signed in through the simulator's form; the code exchange gave a valid ID token" : "FAILED");
ws.close(); chrome.kill(); await new Promise((r) => chrome.once("exit", r)); cleanup(); process.exit(ok ? 0 : 1);
