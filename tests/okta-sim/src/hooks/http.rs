//! The small HTTP/1.1 client hooks are called with: one request per connection
//! (`Connection: close`), plain `http://` only (tests' receivers listen on loopback;
//! Okta itself calls only HTTPS endpoints), a read timeout standing for Okta's 3 s.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::HookError;

/// A receiver's answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends `method url` with `headers` and `body`; waits at most `timeout` for each read.
pub(crate) fn call(
    method: &str,
    url: &url::Url,
    headers: &[(String, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<Answer, HookError> {
    if url.scheme() != "http" {
        return Err(HookError::Url(format!(
            "{url}: only http:// receivers can be called"
        )));
    }
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(HookError::Unreachable)?
        .next()
        .ok_or_else(|| HookError::Url(format!("{url}: no address")))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(HookError::Unreachable)?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(HookError::Unreachable)?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(HookError::Unreachable)?;
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: Okta Google-HTTP-Java-Client/1.23.0 (gzip)\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let sent = stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(body));
    sent.map_err(io_error)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io_error)?;
    parse(&raw)
}

/// A timeout as [`HookError::Timeout`], anything else as unreachable.
fn io_error(e: std::io::Error) -> HookError {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => HookError::Timeout,
        _ => HookError::Unreachable(e),
    }
}

fn parse(raw: &[u8]) -> Result<Answer, HookError> {
    let bad = || HookError::BadResponse(String::from_utf8_lossy(raw).into_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(bad)?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = &raw[split + 4..];
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}
