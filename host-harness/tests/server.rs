//! `usersync serve` against hostile and plain clients, as the real binary on loopback
//! (#19 items 3 and TLS): headers must come in time, idle connections cannot keep a
//! request out, HTTPS with a `Secure` session cookie, and bad TLS files are refused
//! before it listens.

use base64::Engine;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_rustls::rustls;

const PASSWORD: &str = "a long admin password";
const REST: &str = "/rest/usersync/1.0";
const PAGE: &str = "/plugins/servlet/usersync";

/// A `usersync serve` child on a free loopback port; killed when dropped.
struct Serve {
    child: Child,
    /// `127.0.0.1:PORT`.
    addr: String,
    /// Its database and password file (and any certificate).
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory with the admin password file (mode 0600).
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("admin.pw");
    std::fs::write(&pw, PASSWORD).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    dir
}

/// `usersync --db DIR/u.db serve --listen 127.0.0.1:0 ... ARGS`.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_usersync"));
    c.arg("--db")
        .arg(dir.join("u.db"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-password-file"])
        .arg(dir.join("admin.pw"))
        .args(args)
        .env("USERSYNC_LOG", "warn")
        .env("NO_COLOR", "1");
    c
}

/// Start `serve` with `args` in `dir`; returns once it says where it listens.
fn serve_in(dir: tempfile::TempDir, args: &[&str]) -> Serve {
    let mut child = command(dir.path(), args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("usersync starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Serve {
        child,
        addr,
        _dir: dir,
    }
}

fn serve(args: &[&str]) -> Serve {
    serve_in(workdir(), args)
}

fn basic() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"))
}

/// `GET {REST}/connectors` with Basic, keep-alive unless `close`.
fn request(close: bool) -> String {
    let connection = if close { "close" } else { "keep-alive" };
    format!(
        "GET {REST}/connectors HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\n\
         Connection: {connection}\r\n\r\n",
        basic()
    )
}

/// Read one response of a keep-alive connection (headers, then `Content-Length` bytes).
fn response(s: &mut impl Read) -> String {
    let mut r = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "closed after {head:?}");
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// Connect with a read timeout long enough for any deadline of these tests.
fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Whether the server closed `s` (end of stream or reset), waiting for it.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0; 64];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(n) => panic!("got {:?}", String::from_utf8_lossy(&buf[..n])),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => true,
        Err(e) => panic!("not closed: {e}"),
    }
}

#[test]
fn a_connection_that_does_not_send_its_headers_in_time_is_closed() {
    let server = serve(&["--header-timeout", "1", "--idle-timeout", "4"]);

    // Partial headers, then nothing: closed at the deadline (today's server: > 120 s).
    let mut partial = connect(&server.addr);
    let start = Instant::now();
    partial
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow:")
        .unwrap();
    assert!(closed_by_server(&mut partial));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "{took:?}"
    );

    // A header byte every 200 ms does not move the deadline.
    let mut trickle = connect(&server.addr);
    let start = Instant::now();
    let mut cut = false;
    for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
        if trickle.write_all(&[*b]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(cut || closed_by_server(&mut trickle));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );

    // Nothing sent at all: closed at the same deadline.
    let mut silent = connect(&server.addr);
    let start = Instant::now();
    assert!(closed_by_server(&mut silent));
    assert!(start.elapsed() < Duration::from_secs(10));

    // A keep-alive connection between requests has the idle timeout, not the header one:
    // 2 s after its answer (past the 1 s header timeout) it still serves a request, then
    // is closed after 4 s idle.
    let mut keep = connect(&server.addr);
    keep.write_all(request(false).as_bytes()).unwrap();
    assert!(response(&mut keep).starts_with("HTTP/1.1 200"));
    std::thread::sleep(Duration::from_secs(2));
    keep.write_all(request(false).as_bytes()).unwrap();
    assert!(response(&mut keep).starts_with("HTTP/1.1 200"));
    let idle = Instant::now();
    assert!(closed_by_server(&mut keep));
    let took = idle.elapsed();
    assert!(
        took >= Duration::from_millis(3500) && took < Duration::from_secs(12),
        "{took:?}"
    );
}

#[test]
fn a_request_body_that_stops_coming_is_closed_after_the_header_timeout() {
    let server = serve(&["--header-timeout", "1"]);
    let mut s = connect(&server.addr);
    let start = Instant::now();
    write!(
        s,
        "POST {REST}/connectors HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": \"",
        basic()
    )
    .unwrap();
    assert!(closed_by_server(&mut s));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[test]
fn over_the_connection_cap_the_oldest_idle_connection_makes_room_for_a_request() {
    let server = serve(&["--max-connections", "50", "--header-timeout", "120"]);
    // 80 idle connections, one after the other (each accepted in turn).
    let mut idle: Vec<TcpStream> = (0..80).map(|_| connect(&server.addr)).collect();

    // A normal request on a new connection gets its answer.
    let mut admin = connect(&server.addr);
    admin.write_all(request(true).as_bytes()).unwrap();
    let answer = response(&mut admin);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("[]"), "{answer}");

    // The 31 oldest idle connections made room (80 + 1 over a cap of 50), in order;
    // the 49 newest are open and still serve requests.
    for (i, s) in idle.iter_mut().enumerate().take(31) {
        assert!(closed_by_server(s), "connection {i}");
    }
    drop(admin);
    for s in &mut idle[31..] {
        s.write_all(request(false).as_bytes()).unwrap();
        assert!(response(s).starts_with("HTTP/1.1 200"));
    }
}

/// A self-signed certificate for `localhost` and its key, as PEM files in `dir`.
fn certificate(dir: &Path) -> rustls::pki_types::CertificateDer<'static> {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), signing_key.serialize_pem()).unwrap();
    cert.der().clone()
}

/// `raw` over TLS to `addr`, trusting only `cert`; the whole answer.
fn https(addr: &str, cert: rustls::pki_types::CertificateDer<'static>, raw: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, connect(addr));
    tls.write_all(raw.as_bytes()).unwrap();
    response(&mut tls)
}

#[test]
fn https_with_a_certificate_and_its_key_and_the_session_cookie_is_secure() {
    let dir = workdir();
    let cert = certificate(dir.path());
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let server = serve_in(
        dir,
        &[
            "--tls-cert",
            cert_file.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ],
    );

    let answer = https(&server.addr, cert.clone(), &request(true));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let form = format!("username=admin&password={}", PASSWORD.replace(' ', "+"));
    let login_request = format!(
        "POST {PAGE}/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let login = https(&server.addr, cert, &login_request);
    assert!(login.starts_with("HTTP/1.1 303"), "{login}");
    let cookie = session_cookie(&login);
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            cookie.split("; ").any(|a| a == attribute),
            "{attribute}: {cookie}"
        );
    }

    // Over plain HTTP the cookie is not `Secure` (the browser would not send it back).
    let plain_server = serve(&[]);
    let mut s = connect(&plain_server.addr);
    s.write_all(login_request.as_bytes()).unwrap();
    let cookie = session_cookie(&response(&mut s));
    assert!(!cookie.contains("Secure"), "{cookie}");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = connect(&server.addr);
    plain.write_all(request(true).as_bytes()).unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(
        !got.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
}

/// The `Set-Cookie` line of the session in a login's answer.
fn session_cookie(answer: &str) -> String {
    answer
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: usersync_session=")
        })
        .unwrap_or_else(|| panic!("no session cookie: {answer}"))
        .to_string()
}

/// `serve ARGS` must fail before listening, saying `message` on stderr.
fn refused(dir: &Path, args: &[&str], message: &str) {
    let out = command(dir, args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "listened: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains(message), "{args:?}: {stderr}");
}

#[test]
fn tls_files_that_cannot_serve_are_refused_naming_the_file_before_listening() {
    let dir = workdir();
    certificate(dir.path());
    let other = tempfile::tempdir().unwrap();
    certificate(other.path());
    let path = |d: &Path, f: &str| d.join(f).to_str().unwrap().to_string();
    let (cert, key) = (path(dir.path(), "cert.pem"), path(dir.path(), "key.pem"));
    let garbage = path(dir.path(), "garbage.pem");
    std::fs::write(&garbage, "not a key\n").unwrap();
    let missing = path(dir.path(), "missing.pem");
    let foreign_key = path(other.path(), "key.pem");

    let d = dir.path();
    refused(d, &["--tls-cert", &cert], "--tls-key");
    refused(d, &["--tls-key", &key], "--tls-cert");
    refused(
        d,
        &["--tls-cert", &cert, "--tls-key", &garbage],
        &format!("the TLS key {garbage}: holds no PEM private key"),
    );
    refused(
        d,
        &["--tls-cert", &key, "--tls-key", &key],
        &format!("the TLS certificate {key}: holds no PEM certificate"),
    );
    refused(
        d,
        &["--tls-cert", &missing, "--tls-key", &key],
        &format!("the TLS certificate {missing}: cannot read it: No such file"),
    );
    refused(
        d,
        &["--tls-cert", &cert, "--tls-key", &foreign_key],
        &format!("the TLS key {foreign_key} does not serve the certificate {cert}"),
    );
    refused(
        d,
        &["--max-connections", "0"],
        "--max-connections must be at least 1",
    );
    refused(
        d,
        &["--max-connections", "100000000"],
        "--max-connections 100000000 is more than the open-file limit",
    );
    refused(
        d,
        &["--header-timeout", "0"],
        "--header-timeout must be at least 1",
    );
}
