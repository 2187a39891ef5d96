//! The README's examples run as written, so that they cannot drift from the code: every
//! `sh` block's commands (the `usersync` commands and the REST API's `curl` calls) run in
//! one bash script, in the README's order, with the real `usersync` binary against the
//! Okta simulator on loopback; every `json` block is taken by `usersync connector edit
//! --settings`. A command that fails (exit code, or an HTTP error for curl) fails the
//! test with the script's output; a `# {...}` line after a curl call is the answer it must
//! give.
//!
//! What the script changes in the README's text, and why:
//! - `127.0.0.1:8089` (the simulator) and `127.0.0.1:8080` (`serve`) become free loopback
//!   ports, and `OKTA_CLIENT_TOKEN=...` the simulator's token;
//! - `cargo` lines are not run: they build what the test already has (the binary), start
//!   the simulator the test runs itself, or are `cargo test`;
//! - `serve` runs in the background until the next `serve` or the end (the README runs it
//!   in a terminal of its own);
//! - each block gets a database of its own (`USERSYNC_DB`), as each is an example on its
//!   own; `key.pem` and `admin.pw` exist (the files the README takes as given) and the
//!   simulator knows the README's service app `0oa1b2c3d4EXAMPLE` with that key.

use okta_sim::{GenSpec, OAuthApp, Org, SimConfig, Simulator};
use std::path::Path;
use std::process::Command;
use usersync::host::oauth::ClientKey;

const README: &str = include_str!("../../README.md");

/// Defines `usersync` (a `serve` goes to the background, waited for until it answers)
/// and `curl` (fails on an HTTP error; each answer kept in `curl-N.out`).
const PRELUDE: &str = r#"set -euo pipefail
cd "$WORK"
SERVE=
stop_serve() {
  if [ -n "$SERVE" ]; then kill "$SERVE" 2>/dev/null || true; wait "$SERVE" 2>/dev/null || true; fi
  SERVE=
}
trap stop_serve EXIT
usersync() {
  case " $* " in
    *" serve "*)
      stop_serve
      command usersync "$@" >>serve.log 2>&1 &
      SERVE=$!
      local listen=127.0.0.1:8080 prev=
      for a in "$@"; do [ "$prev" = --listen ] && listen=$a; prev=$a; done
      for _ in $(seq 400); do
        if command curl -s -o /dev/null "http://$listen/"; then return 0; fi
        if ! kill -0 "$SERVE" 2>/dev/null; then echo "usersync serve exited:" >&2; cat serve.log >&2; return 1; fi
        sleep 0.05
      done
      echo "usersync serve does not answer on $listen" >&2
      return 1;;
    *) command usersync "$@";;
  esac
}
CURLS=0
curl() {
  CURLS=$((CURLS + 1))
  command curl --silent --show-error --fail-with-body "$@" | tee "curl-$CURLS.out"
  echo
}
"#;

/// The bodies of the README's fenced blocks whose info string starts with `lang`.
fn blocks(lang: &str) -> Vec<&'static str> {
    let fence = format!("```{lang}");
    let mut out = Vec::new();
    let mut rest = README;
    while let Some(at) = rest.find(&fence) {
        let after = &rest[at + fence.len()..];
        let (info, body) = after.split_once('\n').expect("a fence line ends");
        let end = body.find("\n```").expect("a fenced block ends");
        if info.is_empty() || info.starts_with(' ') {
            out.push(&body[..=end]);
        }
        rest = &body[end + 4..];
    }
    out
}

/// The README's text with the placeholder `from` replaced, which it must hold.
fn substitute(text: &mut String, from: &str, to: &str) {
    assert!(
        README.contains(from),
        "the README no longer holds `{from}`: update this test"
    );
    *text = text.replace(from, to);
}

/// The script of the `sh` blocks (run after [`PRELUDE`]): the commands run, the `cargo` lines skipped, and the
/// answer each `# {...}` line expects of the curl call before it (by number).
struct Script {
    text: String,
    skipped: Vec<String>,
    curls: usize,
    expected: Vec<(usize, serde_json::Value)>,
}

fn script() -> Script {
    let mut s = Script {
        text: String::new(),
        skipped: Vec::new(),
        curls: 0,
        expected: Vec::new(),
    };
    for (i, block) in blocks("sh").into_iter().enumerate() {
        s.text += &format!(
            "\n# README sh block {}\nexport USERSYNC_DB=\"$WORK/block-{i}.db\"\n",
            i + 1
        );
        let mut continued = false;
        let mut skipping = false;
        for line in block.lines() {
            let command = !continued;
            continued = line.ends_with('\\');
            if command {
                skipping = line.starts_with("cargo ");
                if line.starts_with("curl ") {
                    s.curls += 1;
                }
                if let Some(json) = line.strip_prefix("# {") {
                    let answer = serde_json::from_str(&format!("{{{json}"))
                        .unwrap_or_else(|e| panic!("`{line}` is not JSON: {e}"));
                    s.expected.push((s.curls, answer));
                }
            }
            if skipping {
                s.skipped.push(line.to_string());
            } else {
                s.text += line;
                s.text += "\n";
            }
        }
    }
    s
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// The simulator the README's examples talk to: an org with the README's user, the
/// README's service app with `key`.
fn simulator(key: &ClientKey) -> Simulator {
    let mut org = Org::generate(&GenSpec {
        users: 20,
        groups: 3,
        memberships_per_user: 2,
        seed: 5,
    });
    org.add_user("jane.doe@acme.com", "Jane", "Doe", "ACTIVE");
    let sim = Simulator::start(org, SimConfig::default());
    let keys = serde_json::json!({ "keys": [key.public_jwk(Some("KID"))] });
    sim.register_oauth_app(
        OAuthApp::new("0oa1b2c3d4EXAMPLE", &keys.to_string())
            .expect("the README's app")
            .with_scopes(&["okta.users.read", "okta.groups.read"])
            .with_dpop(false),
    );
    sim
}

/// A directory holding a `usersync` that is the binary under test.
fn bin_dir(work: &Path) -> std::path::PathBuf {
    let bin = work.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_usersync"), bin.join("usersync")).unwrap();
    bin
}

/// The files the README takes as given, in `work`: `key.pem` (`key`) and `admin.pw`.
fn given_files(work: &Path, key: &ClientKey) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(work.join("key.pem"), key.expose()).unwrap();
    let pw = work.join("admin.pw");
    std::fs::write(&pw, "a long admin password").unwrap();
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Runs `script` after [`PRELUDE`] in `work` with the binary under test as `usersync` and
/// none of the caller's usersync or Okta variables; panics with its output if it fails.
fn run_bash(script: &str, work: &Path, sim: &Simulator) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir(work)];
    dirs.extend(std::env::split_paths(&path));
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(format!("{PRELUDE}{script}"))
        .env("WORK", work)
        .env("PATH", std::env::join_paths(dirs).unwrap())
        .env("USERSYNC_RESOLVE", format!("acme.okta.com={}", sim.addr()));
    for var in [
        "OKTA_CLIENT_TOKEN",
        "OKTA_CLIENT_ORGURL",
        "USERSYNC_DB",
        "USERSYNC_ADMIN_PASSWORD",
        "USERSYNC_PRODUCT",
        "USERSYNC_SEATS",
    ] {
        bash.env_remove(var);
    }
    let out = bash.output().expect("bash runs");
    assert!(
        out.status.success(),
        "a README command failed:\n{}\n--- stderr:\n{}\n--- script:\n{script}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_readmes_commands_and_curl_calls_run_as_written() {
    let key = ClientKey::generate();
    let sim = simulator(&key);
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    given_files(work, &key);

    let mut s = script();
    substitute(&mut s.text, "127.0.0.1:8089", &sim.addr().to_string());
    substitute(&mut s.text, "127.0.0.1:8080", &free_addr());
    substitute(
        &mut s.text,
        "OKTA_CLIENT_TOKEN=...",
        "OKTA_CLIENT_TOKEN=test-token",
    );
    assert!(
        s.skipped.iter().all(|l| l.starts_with("cargo ")) && s.skipped.len() == 6,
        "the cargo lines are the ones skipped: {:?}",
        s.skipped
    );
    assert!(
        s.curls >= 10 && !s.expected.is_empty(),
        "the REST examples are run"
    );
    run_bash(&s.text, work, &sim);

    let answer = |n: usize| std::fs::read_to_string(work.join(format!("curl-{n}.out")));
    for (n, expected) in &s.expected {
        let text = answer(*n).unwrap();
        let got: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("curl call {n} answered no JSON ({e}): {text}"));
        assert_eq!(
            &got, expected,
            "the answer the README shows for curl call {n}"
        );
    }
    assert!(
        answer(s.curls).is_ok() && answer(s.curls + 1).is_err(),
        "as many curl calls ran as the README shows"
    );
}

#[test]
fn the_readmes_json_settings_are_taken_by_the_cli() {
    let sim = simulator(&ClientKey::generate());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db").display().to_string();
    let resolve = format!("acme.okta.com={}", sim.addr());
    let token = dir.path().join("token");
    std::fs::write(&token, "test-token").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_usersync"))
            .args(["--db", &db, "--resolve", &resolve])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let token = token.display().to_string();
    run(&[
        "connector",
        "create",
        "--name",
        "Okta",
        "--domain",
        "acme.okta.com",
        "--token-file",
        &token,
    ]);
    let json = blocks("json");
    assert!(json.len() >= 2, "the defaults and a patch, at least");
    for (i, block) in json.iter().enumerate() {
        let file = dir.path().join(format!("settings-{i}.json"));
        std::fs::write(&file, block).unwrap();
        run(&[
            "connector",
            "edit",
            "Okta",
            "--settings",
            &file.display().to_string(),
        ]);
    }
}
