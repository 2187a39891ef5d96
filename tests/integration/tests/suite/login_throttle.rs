//! Brute force against `usersync serve` (#19 item 7): failed logins are throttled per
//! user name and client address, for HTTP Basic and the login form alike, in parallel
//! as much as in a row; the admin password is at least 12 characters or an argon2 hash,
//! in a file only its owner can read. And Basic page requests open no session, their
//! forms posting with a stateless CSRF token (#19 item 10).

use crate::web_support::{self, PAGE, PASSWORD, REST, Server, call};
use integration::Env;
use std::time::{Duration, Instant};
use usersync::surface::web::auth::Limits;

/// Four free failures, locked out at the fifth, for `lockout`.
fn limits(lockout: Duration) -> Limits {
    Limits {
        free: 4,
        lock_after: 5,
        lockout,
        ..Limits::default()
    }
}

#[test]
fn wrong_basic_guesses_lock_out_and_the_right_password_gets_429_until_the_lockout_ends() {
    let lockout = Duration::from_secs(3);
    let s = Server::throttled(Env::generated(10, 2), limits(lockout));
    let url = s.url(&format!("{REST}/connectors"));
    for guess in 1..=5 {
        let r = call("GET", &url).basic("admin", "guess").send();
        assert_eq!(r.status, 401, "guess {guess}: {}", r.body);
    }
    let locked_at = Instant::now();
    // The right password, over Basic (REST and page) and the login form: refused.
    let r = call("GET", &url).admin().send();
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("3"));
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("too many failed logins: wait 3 s"),
        "{}",
        r.body
    );
    let r = call("GET", s.url(PAGE)).admin().send();
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    let r = call("POST", s.url(&format!("{PAGE}/login")))
        .form(&[("username", "admin"), ("password", PASSWORD)])
        .send();
    assert_eq!(r.status, 429);
    assert!(r.header("set-cookie").is_none(), "no session");
    assert!(
        r.body.contains("Too many failed logins. Wait 3 seconds"),
        "{}",
        r.body
    );
    // Until the lockout ends.
    let mut status = 429;
    while status == 429 {
        assert!(locked_at.elapsed() < lockout + Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(200));
        status = call("GET", &url).admin().send().status;
    }
    assert_eq!(status, 200);
    assert!(
        locked_at.elapsed() >= lockout - Duration::from_millis(500),
        "not before it ends: {:?}",
        locked_at.elapsed()
    );
    // The success reset the count: four free failures again.
    for _ in 0..4 {
        assert_eq!(call("GET", &url).basic("admin", "x").send().status, 401);
    }
    assert_eq!(call("GET", &url).admin().send().status, 200);
}

#[test]
fn parallel_guesses_get_no_more_checks_than_guesses_in_a_row() {
    let s = Server::throttled(Env::generated(10, 2), limits(Duration::from_secs(600)));
    let url = s.url(&format!("{REST}/connectors"));
    // Half over Basic, half through the login form: one throttle.
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let guesses: Vec<_> = (0..40)
            .map(|i| {
                let (url, form) = (&url, s.url(&format!("{PAGE}/login")));
                scope.spawn(move || {
                    let guess = format!("guess-{i}");
                    if i % 2 == 0 {
                        call("GET", url).basic("admin", &guess).send().status
                    } else {
                        call("POST", form)
                            .form(&[("username", "admin"), ("password", &guess)])
                            .send()
                            .status
                    }
                })
            })
            .collect();
        guesses.into_iter().map(|g| g.join().unwrap()).collect()
    });
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 35), "{statuses:?}");
}

/// `usersync serve` with this password file: its URL once it listens, or its exit code
/// and error output if it stops.
fn serve_with(file: &std::path::Path) -> Result<String, (i32, String)> {
    let dir = file.parent().unwrap();
    let db = dir.join("u.db").display().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let args: Vec<String> = [
        "usersync",
        "--db",
        &db,
        "serve",
        "--listen",
        &listen,
        "--admin-password-file",
        &file.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut err = Vec::new();
        let code = usersync::surface::cli::run(args, &mut std::io::sink(), &mut err);
        let _ = done.send((code, String::from_utf8(err).unwrap()));
    });
    for _ in 0..200 {
        if let Ok(stopped) = finished.try_recv() {
            return Err(stopped);
        }
        if std::net::TcpStream::connect(&listen).is_ok() {
            return Ok(format!("http://{listen}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("serve neither listens nor stops");
}

#[test]
fn serve_refuses_a_short_password_and_a_readable_file_and_takes_an_argon2_hash() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("admin.pw");
    let shown = file.display().to_string();

    web_support::write_private(&file, "elevenchars\n");
    let (code, err) = serve_with(&file).unwrap_err();
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "error: {shown}: the admin password has 11 characters; it needs at least 12 (or give an argon2 hash of it, $argon2id$...)\n"
        )
    );

    web_support::write_private(&file, PASSWORD);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, err) = serve_with(&file).unwrap_err();
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "error: the password file {shown} has mode 0644: its group or others may read it; make it the owner's alone (chmod 600 {shown})\n"
        )
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(serve_with(&file).unwrap_err().1.contains("has mode 0640"));

    // An argon2 hash: the file holds no password, and a short one is then allowed.
    use argon2::PasswordHasher;
    let hash = argon2::Argon2::default()
        .hash_password(b"short")
        .unwrap()
        .to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    web_support::write_private(&file, &format!("{hash}\n"));
    let base = serve_with(&file).expect("serve starts");
    let url = format!("{base}{REST}/connectors");
    assert_eq!(call("GET", &url).basic("admin", "short").send().status, 200);
    assert_eq!(
        call("GET", &url).basic("admin", "shorts").send().status,
        401
    );
    assert_eq!(call("GET", &url).basic("admin", &hash).send().status, 401);
    assert_eq!(call("GET", &url).basic("admin", "short").send().status, 200);
}

/// The CSRF token in a page (its `atl-token` meta element).
fn token(page: &str) -> &str {
    page.split("name=\"atl-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no token in {page}"))
}

#[test]
fn basic_page_requests_open_no_session_and_their_forms_post() {
    let s = Server::start(10, 2);
    let mut tokens = Vec::new();
    for _ in 0..20 {
        let r = call("GET", s.url(PAGE)).admin().send();
        assert_eq!(r.status, 200);
        assert!(r.header("set-cookie").is_none(), "no session for Basic");
        tokens.push(token(&r.body).to_string());
    }
    // The form of the page posts with its token over Basic (a dry run here).
    let sync = s.url(&format!("{PAGE}/connectors/okta/sync"));
    let r = call("POST", &sync)
        .admin()
        .form(&[("atl_token", &tokens[0]), ("dry_run", "1")])
        .send();
    assert_eq!(r.status, 303, "{}", r.body);
    let r = call("POST", &sync)
        .admin()
        .header("x-csrf-token", &tokens[19])
        .form(&[("dry_run", "1")])
        .send();
    assert_eq!(r.status, 303, "{}", r.body);
    let runs = s.env.harness.runs(None, 10).unwrap().len();
    // Forged tokens (another issue time, a changed MAC, none) and a session's token are
    // refused, and nothing runs.
    let (issued, mac) = tokens[0].split_once('.').unwrap();
    let later = format!("{}.{mac}", issued.parse::<u64>().unwrap() + 1);
    let flipped = format!(
        "{issued}.{}{}",
        &mac[..63],
        if mac.ends_with('0') { "1" } else { "0" }
    );
    let (_, session_token) = web_support::login(&s);
    for forged in [later.as_str(), &flipped, "", &session_token] {
        let r = call("POST", &sync)
            .admin()
            .form(&[("atl_token", forged), ("dry_run", "1")])
            .send();
        assert_eq!(r.status, 403, "{forged:?}: {}", r.body);
        assert!(r.body.contains("XSRF Security Token Missing"));
    }
    assert_eq!(s.env.harness.runs(None, 10).unwrap().len(), runs);
}
