//! #19 item 3's load test: 20,000 idle TCP connections must not stop a normal request.
//! A real `usersync serve` child (default limits: at most 1,000 connections under its
//! open-file limit) gets 20,000 connections that send nothing, from this process and a
//! helper process (one process may hold only `ulimit -n` of them); a normal request then
//! gets its answer, and the server holds no more file descriptors than its cap allows.
//! Its own test binary, so that no other test shares this process's file descriptors.

use base64::Engine;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long admin password";
/// Idle connections in all.
const IDLE: usize = 20_000;
/// Env of the helper process: where to connect, how many.
const HOLD: &str = "USERSYNC_TEST_HOLD";

/// `n` connections to `addr`, one after the other.
fn open(addr: &str, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| TcpStream::connect(addr).unwrap_or_else(|e| panic!("connection {i}: {e}")))
        .collect()
}

/// The helper process: holds the connections of `USERSYNC_TEST_HOLD=ADDR N`, says
/// `held`, and keeps them until its standard input closes.
#[test]
#[ignore = "the second process of twenty_thousand_idle_connections_do_not_stop_a_request"]
fn hold_connections() {
    let spec = std::env::var(HOLD).expect("run by the load test");
    let (addr, n) = spec.split_once(' ').unwrap();
    let held = open(addr, n.parse().unwrap());
    println!("held {}", held.len());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// Open file descriptors of process `pid` (where /proc tells).
fn fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

#[test]
fn twenty_thousand_idle_connections_do_not_stop_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("admin.pw");
    std::fs::write(&pw, PASSWORD).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .arg("--db")
        .arg(dir.path().join("u.db"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-password-file"])
        .arg(&pw)
        .env("USERSYNC_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.split("://").nth(1).unwrap().split('/').next().unwrap();
    let mut stderr = server.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });

    // Half the connections from a second process, half from this one, at once.
    let start = Instant::now();
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hold_connections", "--ignored", "--nocapture"])
        .env(HOLD, format!("{addr} {}", IDLE / 2))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let idle = open(addr, IDLE - IDLE / 2);
    let mut helper_out = BufReader::new(helper.stdout.take().unwrap()).lines();
    let held = helper_out
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l == format!("held {}", IDLE / 2));
    assert!(held, "the helper opened its connections");
    let opened = start.elapsed();

    let server_fds = fds(server.id());

    // A normal request gets its answer.
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"));
    write!(
        s,
        "GET /rest/usersync/1.0/connectors HTTP/1.1\r\nHost: x\r\n\
         Authorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let answered = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("[]"), "{answer}");

    // Under its cap (1,000) plus what it keeps for the rest (256).
    if let Some(n) = server_fds {
        assert!(n <= 1000 + 256, "the server holds {n} descriptors");
    }
    eprintln!(
        "{IDLE} idle connections opened in {opened:?}; the server held {server_fds:?} \
         descriptors; a request answered in {answered:?}"
    );

    drop(helper.stdin.take());
    helper_out.for_each(drop);
    let _ = helper.wait();
    drop(idle);
    let _ = server.kill();
    let _ = server.wait();
    let log = log.join().unwrap();
    // Shedding is logged at most once per 10 s, not once per connection.
    let shed = log.matches("connections open (the limit)").count();
    let most = 2 + opened.as_secs() as usize / 10;
    assert!((1..=most).contains(&shed), "{shed} shedding lines:\n{log}");
}
