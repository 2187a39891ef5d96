//! Shared by the REST, page and browser tests: a simulator, a harness, and `usersync`'s
//! HTTP server on a free loopback port; a small blocking HTTP client (ureq) that never
//! follows redirects and returns every status as it is.

use integration::Env;
use std::time::Duration;
use usersync::surface::web::auth::{Limits, Password};
use usersync::surface::web::{WebConfig, WebServer};

/// The admin credential of the test servers.
pub const USER: &str = "admin";
/// Its password (at least 12 characters, as `serve` requires).
pub const PASSWORD: &str = "correct horse battery staple";
/// The page's path.
pub const PAGE: &str = "/plugins/servlet/usersync";
/// The REST API's path.
pub const REST: &str = "/rest/usersync/1.0";

/// A simulator + harness (with connector `okta`) + HTTP server.
pub struct Server {
    /// Stopped first (dropped before the env).
    pub web: WebServer,
    /// Simulator and harness.
    pub env: Env,
}

impl Server {
    /// A generated org of `users` users and `groups` groups, the connector `okta`, and
    /// the server on 127.0.0.1:0.
    pub fn start(users: usize, groups: usize) -> Server {
        let env = Env::generated(users, groups);
        Server::around(env)
    }

    /// The server around an existing env.
    pub fn around(env: Env) -> Server {
        Server::throttled(env, Limits::default())
    }

    /// The server around an existing env, failed logins throttled by `limits`.
    pub fn throttled(env: Env, limits: Limits) -> Server {
        let config = WebConfig {
            admin_user: USER.into(),
            admin_password: Password::new(PASSWORD).expect("a valid password"),
            throttle: limits,
        };
        let web =
            WebServer::start(env.harness.clone(), config, "127.0.0.1:0").expect("server starts");
        Server { web, env }
    }

    /// `http://ADDR` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.web.url())
    }
}

/// A response.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

impl Resp {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One request.
pub struct Call<'a> {
    method: &'a str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Start a request.
pub fn call(method: &str, url: impl Into<String>) -> Call<'_> {
    Call {
        method,
        url: url.into(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

impl Call<'_> {
    /// Add a header.
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    /// HTTP Basic with the admin credential.
    pub fn admin(self) -> Self {
        self.basic(USER, PASSWORD)
    }

    /// HTTP Basic.
    pub fn basic(self, user: &str, password: &str) -> Self {
        use base64::Engine;
        let v = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.header("authorization", &format!("Basic {v}"))
    }

    /// A JSON body.
    pub fn json(mut self, body: &str) -> Self {
        self.body = body.as_bytes().to_vec();
        self.header("content-type", "application/json")
    }

    /// A form body.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.body = serde_urlencoded::to_string(fields)
            .expect("form fields encode")
            .into_bytes();
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// Send it.
    pub fn send(self) -> Resp {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut req = http::Request::builder().method(self.method).uri(&self.url);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let resp = agent
            .run(req.body(self.body).expect("request"))
            .unwrap_or_else(|e| panic!("{} {}: {e}", self.method, self.url));
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let body = resp.into_body().read_to_string().unwrap_or_default();
        Resp {
            status,
            headers,
            body,
        }
    }
}

/// Poll a run over REST until it is no longer running.
pub fn wait_for_run(s: &Server, id: i64) -> serde_json::Value {
    for _ in 0..600 {
        let r = call("GET", s.url(&format!("{REST}/runs/{id}")))
            .admin()
            .send();
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        if v["status"] != "running" {
            return v;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("run #{id} did not finish in a minute");
}

/// Log in through the page's form: (cookie header, CSRF token).
pub fn login(s: &Server) -> (String, String) {
    let r = call("POST", s.url(&format!("{PAGE}/login")))
        .form(&[("username", USER), ("password", PASSWORD)])
        .send();
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = call("GET", s.url(PAGE)).header("cookie", &cookie).send();
    let csrf = page
        .body
        .split("name=\"atl-token\" content=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    (cookie, csrf)
}

/// Write `text` to the file `path`, readable by its owner only (as `serve` requires of
/// its password file).
pub fn write_private(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}
