//! The `okta-sim` binary: `--oauth-app` (a group-admin app named by group name and
//! an app without an admin role), the rate-limit flags, `--event-hook` and
//! `--oidc-client` / `--user-password` / `--public-origin auto`, served and used
//! over HTTP.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};

use common::oauth::{assertion, jwks, rsa_key, token_request};
use common::receiver::Receiver;
use common::{assert_okta_error, get, get_as};
use okta_sim::{GenSpec, Org};

/// The simulator and its stdout (kept open: the binary prints more lines, and a
/// closed pipe would kill it). Killed when the test ends, however it ends.
struct Served(Child, BufReader<ChildStdout>);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on a free port with these arguments; returns it and its address
/// (read from the first line it prints) once it listens.
fn spawn(args: &[&str]) -> (Served, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_okta-sim"))
        .args(["--port", "0"])
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

impl Served {
    /// The next line the binary prints.
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.1.read_line(&mut line).unwrap();
        line
    }
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
    let scoped = format!("scoped={keys},no-dpop,groups={}", group.name);
    let nobody = format!("nobody={keys},no-dpop,no-admin,scopes=okta.groups.read");
    let (served, addr) = spawn(&[
        "--users",
        "20",
        "--groups",
        "3",
        "--memberships",
        "1",
        "--seed",
        "5",
        "--oauth-app",
        &scoped,
        "--oauth-app",
        &nobody,
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

/// `(limit, remaining)` headers and status of `GET /api/v1/logs`.
fn logs_hit(addr: SocketAddr) -> (u16, String, String) {
    let r = get(addr, "/api/v1/logs");
    let h = |n: &str| r.header(n).unwrap().to_string();
    (
        r.status,
        h("x-rate-limit-limit"),
        h("x-rate-limit-remaining"),
    )
}

#[test]
fn rate_limit_flags_enforce_or_report_a_tokens_share() {
    // The logs bucket is 120/min; a token's default share is 50 %: 60.
    let (_served, addr) = spawn(&["--users", "5", "--rate-limits", "enforce"]);
    for i in 1..=60 {
        assert_eq!(logs_hit(addr), (200, "60".into(), (60 - i).to_string()));
    }
    let over = get(addr, "/api/v1/logs");
    assert_okta_error(&over, 429, "E0000047");
    assert_eq!(over.header("x-rate-limit-remaining"), Some("0"));

    let (_served, addr) = spawn(&[
        "--users",
        "5",
        "--rate-limits",
        "report",
        "--token-share",
        "10",
    ]);
    for _ in 0..12 {
        assert_eq!(logs_hit(addr).0, 200);
    }
    assert_eq!(
        logs_hit(addr),
        (200, "12".into(), "0".into()),
        "report: never a 429"
    );

    let args = [
        "--users",
        "5",
        "--rate-limits",
        "enforce",
        "--token-share",
        "1",
        "--window-ms",
        "300",
    ];
    let (_served, addr) = spawn(&args);
    assert_eq!(logs_hit(addr).0, 200);
    assert_eq!(logs_hit(addr).0, 429);
    std::thread::sleep(std::time::Duration::from_millis(350));
    assert_eq!(
        logs_hit(addr),
        (200, "1".into(), "0".into()),
        "a new window"
    );
}

#[test]
fn an_event_hook_from_the_command_line_is_verified() {
    let receiver = Receiver::start();
    let spec = format!(
        "{},auth=Authorization:s3cret,events=group.user_membership.add",
        receiver.url
    );
    let (mut served, _addr) = spawn(&["--users", "5", "--event-hook", &spec]);
    let lines: Vec<String> = (0..3).map(|_| served.line()).collect();
    let hook = lines
        .iter()
        .find(|l| l.starts_with("event hook who"))
        .expect("a hook line");
    assert!(
        hook.trim_end().ends_with(&format!("verified: {spec}")),
        "{hook}"
    );
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("authorization"), Some("s3cret"));
    assert!(got[0].header("x-okta-verification-challenge").is_some());
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
