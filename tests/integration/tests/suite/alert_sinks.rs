//! Receivers of the alert tests on loopback: a webhook (HTTP/1.1, answering 500 to the
//! first requests it is told to fail) and an SMTP sink (RFC 5321's commands a client
//! without authentication sends), each keeping what it received.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An e-mail received: its `RCPT TO` lines and its DATA.
pub type Mail = (Vec<String>, String);

/// The webhook receiver and the SMTP sink.
pub struct Sinks {
    /// The webhook's URL.
    pub webhook: String,
    /// The SMTP sink's port (on 127.0.0.1).
    pub smtp_port: u16,
    /// Webhook bodies received (the failed ones too).
    pub posts: Arc<Mutex<Vec<String>>>,
    /// E-mails received: (recipients, DATA).
    pub mails: Arc<Mutex<Vec<Mail>>>,
    /// Webhook requests still to answer with 500.
    pub fail_next: Arc<AtomicUsize>,
}

impl Sinks {
    /// Both, listening.
    pub fn start() -> Sinks {
        let web = TcpListener::bind("127.0.0.1:0").unwrap();
        let smtp = TcpListener::bind("127.0.0.1:0").unwrap();
        let sinks = Sinks {
            webhook: format!("http://{}/hooks/alerts", web.local_addr().unwrap()),
            smtp_port: smtp.local_addr().unwrap().port(),
            posts: Default::default(),
            mails: Default::default(),
            fail_next: Default::default(),
        };
        let (posts, fail) = (sinks.posts.clone(), sinks.fail_next.clone());
        std::thread::spawn(move || {
            for conn in web.incoming().flatten() {
                let _ = answer_webhook(conn, &posts, &fail);
            }
        });
        let mails = sinks.mails.clone();
        std::thread::spawn(move || {
            for conn in smtp.incoming().flatten() {
                let _ = answer_smtp(conn, &mails);
            }
        });
        sinks
    }

    /// The console settings that send alerts to both.
    pub fn settings(&self) -> serde_json::Value {
        serde_json::json!({"alerts": {
            "webhookUrl": self.webhook,
            "email": {"smtpHost": "127.0.0.1", "smtpPort": self.smtp_port, "security": "none",
                      "from": "usersync@acme.example", "to": ["ops@acme.example"]},
            "rateLimitThreshold": 2,
        }})
    }

    /// Wait until `n` webhook posts and `m` e-mails came (10 s at most).
    pub fn wait_for(&self, n: usize, m: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.posts.lock().unwrap().len() < n || self.mails.lock().unwrap().len() < m {
            assert!(
                Instant::now() < deadline,
                "alerts received: {:?} {:?}",
                self.posts.lock().unwrap(),
                self.mails.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn answer_webhook(
    conn: TcpStream,
    posts: &Mutex<Vec<String>>,
    fail: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    posts
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&body).into());
    let failing = fail
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok();
    let status = if failing {
        "500 Internal Server Error"
    } else {
        "200 OK"
    };
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

fn answer_smtp(conn: TcpStream, mails: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    let mut out = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    out.write_all(b"220 sink.test ESMTP\r\n")?;
    let mut rcpt = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => out.write_all(b"250 sink.test\r\n")?,
            "RCPT" => {
                rcpt.push(line.trim_end().to_string());
                out.write_all(b"250 ok\r\n")?
            }
            "DATA" => {
                out.write_all(b"354 go on\r\n")?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l)? == 0 || l == ".\r\n" {
                        break;
                    }
                    data.push_str(&l);
                }
                mails
                    .lock()
                    .unwrap()
                    .push((std::mem::take(&mut rcpt), data));
                out.write_all(b"250 queued\r\n")?
            }
            "QUIT" => return out.write_all(b"221 bye\r\n"),
            _ => out.write_all(b"250 ok\r\n")?,
        }
    }
}
