//! A minimal HTTP/1.1 client over `TcpStream` for the tests.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use serde_json::Value;

pub mod oauth;
pub mod oidc;
pub mod receiver;

/// A parsed response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of a header, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// The URL of the `rel="next"` link, if any.
    pub fn next_link(&self) -> Option<String> {
        self.header_all("link")
            .into_iter()
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap()].to_string())
    }
}

/// Sends one request with `Connection: close` and reads the whole response.
pub fn request(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)]) -> Resp {
    send(addr, method, target, headers, b"")
}

/// Like [`request`], with a body (and its `Content-Length`).
pub fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: acme.okta.com\r\nAccept: application/json\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..eol]).unwrap().trim(), 16).unwrap();
        data = &data[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// `GET target` with `Authorization: SSWS test-token`.
pub fn get(addr: SocketAddr, target: &str) -> Resp {
    request(addr, "GET", target, &[("Authorization", "SSWS test-token")])
}

/// `GET target` with this Authorization header value.
pub fn get_as(addr: SocketAddr, target: &str, authorization: &str) -> Resp {
    request(addr, "GET", target, &[("Authorization", authorization)])
}

/// The path and query of a link on `origin`.
pub fn target_of(link: &str, origin: &str) -> String {
    link.strip_prefix(origin)
        .unwrap_or_else(|| panic!("{link} is not on {origin}"))
        .to_string()
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Asserts an Okta error body with this status and code.
pub fn assert_okta_error(r: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["errorCode"], code, "{v}");
    assert_eq!(v["errorLink"], code);
    let id = v["errorId"].as_str().unwrap();
    assert!(id.starts_with("oae") && id.len() == 25, "{id}");
    assert!(v["errorSummary"].is_string());
    assert!(v["errorCauses"].is_array());
    v
}

/// The default configuration plus a group-scoped `token` with no target groups.
pub fn scoped_config(token: &str) -> okta_sim::SimConfig {
    okta_sim::SimConfig {
        scoped_tokens: vec![okta_sim::ScopedToken {
            token: token.into(),
            target_groups: vec![],
        }],
        ..okta_sim::SimConfig::default()
    }
}
