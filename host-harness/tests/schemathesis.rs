//! The REST API keeps its contract: schemathesis (PyPI, pinned) generates requests from
//! the OpenAPI document a real `usersync serve` serves at `/rest/usersync/1.0/openapi.json`
//! (the binary, a temp database, a connector synced from the Okta simulator on loopback)
//! and checks every answer: no server error; status, content type, headers and body as
//! the document says; and no operation that answers without the credential.
//!
//! Schemathesis is installed once into a virtualenv under the target dir
//! (`target/tmp/schemathesis-VERSION`) with `python3 -m venv` and pip, as `cargo test` on a
//! fresh machine must set itself up; `USERSYNC_NO_INSTALL=1` turns that off (then a missing
//! install fails the test saying how to install it).

use okta_sim::{GenSpec, Org, SimConfig, Simulator};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The schemathesis release the contract is checked with.
const SCHEMATHESIS: &str = "4.32.5";
const ADMIN: &str = "admin";
const PASSWORD: &str = "a long admin password";
const REST: &str = "/rest/usersync/1.0";

/// The virtualenv's python, with schemathesis installed; installs it when missing.
fn schemathesis() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("schemathesis-{SCHEMATHESIS}"));
    let python = venv.join("bin/python");
    if python.is_file() {
        return python;
    }
    if std::env::var_os("USERSYNC_NO_INSTALL").is_some() {
        panic!(
            "schemathesis {SCHEMATHESIS} is not installed in {} and USERSYNC_NO_INSTALL is set: \
             `python3 -m venv {0} && {0}/bin/pip install schemathesis=={SCHEMATHESIS}`",
            venv.display()
        );
    }
    // Installed beside the final place and renamed into it, so that a test that stops
    // half-way (or another one installing at the same time) never leaves a broken venv.
    let partial = venv.with_file_name(format!(
        "schemathesis-{SCHEMATHESIS}.partial-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&partial);
    eprintln!(
        "installing schemathesis {SCHEMATHESIS} into {}",
        venv.display()
    );
    run_to_end(
        Command::new("python3").args(["-m", "venv"]).arg(&partial),
        "python3 -m venv (Debian: apt-get install python3-venv)",
    );
    run_to_end(
        Command::new(partial.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(format!("schemathesis=={SCHEMATHESIS}")),
        "pip install schemathesis",
    );
    if std::fs::rename(&partial, &venv).is_err() {
        // Another test process installed it first.
        let _ = std::fs::remove_dir_all(&partial);
    }
    assert!(python.is_file(), "{} after installing", python.display());
    python
}

fn run_to_end(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `usersync serve` as a child process; killed when dropped.
struct Serve {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Serve {
    fn start(dir: &Path, sim: &Simulator) -> Serve {
        use std::os::unix::fs::PermissionsExt;
        let pw = dir.join("admin.pw");
        std::fs::write(&pw, PASSWORD).unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        let addr = free_addr();
        let log = dir.join("serve.log");
        let child = Command::new(env!("CARGO_BIN_EXE_usersync"))
            .arg("--db")
            .arg(dir.join("usersync.db"))
            .args(["--resolve", &format!("acme.okta.com={}", sim.addr())])
            // Schemathesis sends wrong credentials on purpose (`ignored_auth`): from one
            // address they would soon lock the right ones out.
            .args([
                "serve",
                "--listen",
                &addr,
                "--login-free-failures",
                "1000000",
            ])
            .arg("--admin-password-file")
            .arg(&pw)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("usersync serve starts");
        let serve = Serve { child, addr, log };
        for _ in 0..400 {
            if TcpStream::connect(&serve.addr).is_ok() {
                return serve;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("serve does not listen: {}", serve.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` with Basic auth or without: the status and body.
    fn get(&self, path: &str, auth: bool) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        let basic = if auth {
            use base64::Engine;
            let b = base64::engine::general_purpose::STANDARD.encode(format!("{ADMIN}:{PASSWORD}"));
            format!("Authorization: Basic {b}\r\n")
        } else {
            String::new()
        };
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{basic}Connection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let status = answer[9..12].parse().unwrap();
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// The CLI in process against `db`; panics unless it succeeds.
fn cli(db: &Path, sim: &Simulator, args: &[&str]) {
    let mut argv: Vec<String> = vec![
        "usersync".into(),
        "--db".into(),
        db.display().to_string(),
        "--resolve".into(),
        format!("acme.okta.com={}", sim.addr()),
    ];
    argv.extend(args.iter().map(|s| s.to_string()));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = usersync::surface::cli::run(argv, &mut out, &mut err);
    assert_eq!(code, 0, "{args:?}: {}", String::from_utf8_lossy(&err));
}

#[test]
fn the_live_api_answers_as_its_openapi_document_says() {
    let python = schemathesis();
    let sim = Simulator::start(
        Org::generate(&GenSpec {
            users: 30,
            groups: 4,
            memberships_per_user: 2,
            seed: 3,
        }),
        SimConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "test-token\n").unwrap();
    // The document's examples: connector `Okta` with its run 1, and `Retired` to delete.
    let db = dir.path().join("usersync.db");
    let token = token.display().to_string();
    for name in ["Okta", "Retired"] {
        cli(
            &db,
            &sim,
            &[
                "connector",
                "create",
                "--name",
                name,
                "--domain",
                "acme.okta.com",
                "--token-file",
                &token,
            ],
        );
    }
    cli(&db, &sim, &["sync", "Okta"]);
    let serve = Serve::start(dir.path(), &sim);

    let doc = format!("{REST}/openapi.json");
    let (status, body) = serve.get(&doc, false);
    assert_eq!(
        status, 401,
        "the document needs the admin credential: {body}"
    );
    let (status, body) = serve.get(&doc, true);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        usersync::surface::web::openapi::DOCUMENT,
        "served as it is"
    );

    let out = Command::new(&python)
        .args(["-m", "schemathesis.cli", "run"])
        .arg(format!("http://{}{doc}", serve.addr))
        .args(["--auth", &format!("{ADMIN}:{PASSWORD}")])
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,\
             content_type_conformance,response_headers_conformance,ignored_auth",
        ])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", "25", "--seed", "19", "--workers", "2"])
        .args(["--request-timeout", "30"])
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .output()
        .expect("schemathesis runs");
    let report = format!(
        "{}{}\n--- usersync serve's log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        serve.log()
    );
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}"
    );
    assert!(!serve.log().contains("panicked"), "{report}");
    // Every operation but `GET /openapi.json`, which schemathesis leaves out as the
    // document it loaded.
    let document: serde_json::Value =
        serde_json::from_str(usersync::surface::web::openapi::DOCUMENT).unwrap();
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .count()
        })
        .sum::<usize>()
        - 1;
    assert!(
        report.contains(&format!(
            "Selected: {operations}/{operations}\n  Tested: {operations}\n"
        )) && report.contains("Scenarios:"),
        "schemathesis tested all {operations} operations, and their links:\n{report}"
    );
}
