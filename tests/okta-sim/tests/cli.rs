//! The `okta-sim` binary's `--oauth-app` (a group-admin app named by group name and
//! an app without an admin role) and `--oidc-client` / `--user-password` /
//! `--public-origin auto`, served and used over HTTP.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};

use common::oauth::{assertion, jwks, rsa_key, token_request};
use common::{assert_okta_error, get_as};
use okta_sim::{GenSpec, Org};

/// The simulator and its stdout (kept open: the binary prints more lines, and a
/// closed pipe would kill it). Killed when the test ends, however it ends.
struct Served(Child, #[allow(dead_code)] BufReader<ChildStdout>);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args`; the process and the address it listens on.
fn spawn(args: &[&str]) -> (Served, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_okta-sim"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .rsplit("http://")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (Served(child, stdout), addr)
}

#[test]
fn oauth_apps_from_the_command_line() {
    let key = rsa_key(0, "cli-key");
    let jwks_path = std::env::temp_dir().join(format!("okta-sim-cli-{}.json", std::process::id()));
    std::fs::write(&jwks_path, jwks(&[&key])).unwrap();
    let org = Org::generate(&GenSpec {
        users: 20,
        groups: 3,
        memberships_per_user: 1,
        seed: 5,
    });
    let group = org.groups.iter().find(|g| g.name != "Everyone").unwrap();
    let keys = jwks_path.display();
    let (served, addr) = spawn(&[
        "--port",
        "0",
        "--users",
        "20",
        "--groups",
        "3",
        "--memberships",
        "1",
        "--seed",
        "5",
        "--oauth-app",
        &format!("scoped={keys},no-dpop,groups={}", group.name),
        "--oauth-app",
        &format!("nobody={keys},no-dpop,no-admin,scopes=okta.groups.read"),
    ]);

    let token = |client: &str, scope: &str| {
        let r = token_request(addr, &assertion(&key, client), scope, None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["token_type"], "Bearer");
        format!("Bearer {}", r.json()["access_token"].as_str().unwrap())
    };
    let groups = get_as(addr, "/api/v1/groups", &token("scoped", "okta.groups.read"));
    assert_eq!(groups.status, 200, "{}", groups.body);
    assert_eq!(groups.json().as_array().unwrap().len(), 1);
    assert_eq!(groups.json()[0]["id"], group.id.as_str());
    let refused = get_as(addr, "/api/v1/groups", &token("nobody", "okta.groups.read"));
    assert_okta_error(&refused, 403, "E0000006");
    drop(served);
    let _ = std::fs::remove_file(&jwks_path);
}

#[test]
fn an_oidc_client_from_the_command_line_signs_a_user_in() {
    use common::oidc::*;
    let org = Org::generate(&GenSpec {
        users: 20,
        groups: 1,
        memberships_per_user: 1,
        seed: 5,
    });
    let login = org.first_active_login().unwrap();
    let client = format!("{WEB}={SECRET},redirect={CALLBACK}");
    let password = format!("{login}=cli-Passw0rd");
    let (_served, addr) = spawn(&[
        "--port",
        "0",
        "--users",
        "20",
        "--groups",
        "1",
        "--memberships",
        "1",
        "--seed",
        "5",
        "--public-origin",
        "auto",
        "--oidc-client",
        &client,
        "--user-password",
        &password,
    ]);
    let issuer = format!("http://{addr}");
    let discovery = get(addr, "/.well-known/openid-configuration").json();
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(discovery["jwks_uri"], format!("{issuer}/oauth2/v1/keys"));
    let code = login_code(addr, WEB, &login, "cli-Passw0rd");
    let r = exchange(addr, &code);
    assert_eq!(r.status, 200, "{}", r.body);
    let claims = verify_id_token_of(
        addr,
        &issuer,
        r.json()["id_token"].as_str().unwrap(),
        WEB,
        "n-1",
    )
    .unwrap();
    assert_eq!(claims["preferred_username"], login.as_str());
}
