//! The sync process: the harness, the wasm guest and the SQLite store run in a child of
//! the bench (this binary with `--worker <config>`), so that its resident memory is the
//! sync's own, not the simulator's, the generated org's or the native comparison's.
//!
//! The parent sends one [`Command`] per line on the worker's stdin; the worker answers
//! each with one line on its stdout, prefixed with [`REPLY_PREFIX`] (anything else the
//! worker prints there goes to stderr): first `Result<Ready, String>` once the harness
//! is up, then `Result<T, String>` per command.

use crate::measure::{CONNECTOR, DOMAIN, Logins, SyncRun, TOKEN};
use crate::procfs;
use anyhow::{Context as _, anyhow};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::Arc;
use std::time::Instant;
use usersync::host::http::Resolve;
use usersync::host::runtime::{Limits, Runtime};
use usersync::model as wit;
use usersync::model::{ConnectorPatch, TokenText, Trigger};
use usersync::{Harness, Options, SyncRequest};

/// Marks the worker's answers on its stdout.
const REPLY_PREFIX: &str = "BENCH-WORKER ";

/// How the worker sets up its harness.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerConfig {
    /// The simulator's address; the bench's Okta domain resolves to it.
    pub sim_addr: SocketAddr,
    /// The SQLite store (created by the worker).
    pub db: PathBuf,
    /// Guest memory limit, MiB.
    pub guest_mib: u64,
    /// Profile attributes the connector copies.
    pub attributes: Vec<String>,
}

/// What the parent asks of the worker.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// One `Harness::sync`; answers a [`SyncRun`] without the simulator's side.
    Sync {
        /// Incremental instead of full.
        incremental: bool,
        /// A deep reconcile (every member list read) instead of a full sync by group marks.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        deep: bool,
    },
    /// `Harness::sync_user` of each login in turn; answers [`Logins`].
    Logins {
        /// The logins, in order.
        logins: Vec<String>,
    },
    /// Answer the worker's peak resident memory, KiB, then exit.
    Quit,
}

/// The worker's first answer: its harness is up.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ready {
    /// Loading the component, ms.
    pub runtime_ms: f64,
    /// VmRSS with the component loaded and the connector created, KiB.
    pub rss_kb: u64,
    /// The connector's directory in the store.
    pub directory: i64,
}

// ---- the parent's side

/// A running worker.
pub struct Worker {
    child: Child,
    /// `None` once closed (the worker exits at the end of its input).
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    /// Start a worker (this binary with `--worker`) and wait until its harness is up.
    pub fn spawn(config: &WorkerConfig) -> anyhow::Result<(Worker, Ready)> {
        let exe = std::env::current_exe().context("locating the bench binary")?;
        let mut child = Process::new(exe)
            .arg("--worker")
            .arg(serde_json::to_string(config)?)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the sync worker")?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut worker = Worker {
            child,
            stdin,
            stdout,
        };
        let ready = worker.answer()?;
        Ok((worker, ready))
    }

    /// One sync: the worker's fields of [`SyncRun`] (the simulator's are left at 0).
    pub fn sync(&mut self, incremental: bool) -> anyhow::Result<SyncRun> {
        self.call(&Command::Sync {
            incremental,
            deep: false,
        })
    }

    /// One deep reconcile: a full sync that reads every member list.
    pub fn deep_sync(&mut self) -> anyhow::Result<SyncRun> {
        self.call(&Command::Sync {
            incremental: false,
            deep: true,
        })
    }

    /// Login syncs of `logins`, in order.
    pub fn logins(&mut self, logins: Vec<String>) -> anyhow::Result<Logins> {
        self.call(&Command::Logins { logins })
    }

    /// Stop the worker; its peak resident memory over its life, KiB.
    pub fn quit(&mut self) -> anyhow::Result<u64> {
        let peak = self.call(&Command::Quit);
        self.stdin = None;
        peak
    }

    fn call<T: DeserializeOwned>(&mut self, command: &Command) -> anyhow::Result<T> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| anyhow!("the sync worker was closed"))?;
        writeln!(stdin, "{}", serde_json::to_string(command)?)?;
        stdin.flush().context("writing to the sync worker")?;
        self.answer()
    }

    /// The next answer; other lines on the worker's stdout go to stderr.
    fn answer<T: DeserializeOwned>(&mut self) -> anyhow::Result<T> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.stdout.read_line(&mut line)? == 0 {
                let status = self.child.wait()?;
                return Err(anyhow!(
                    "the sync worker ended without answering ({status})"
                ));
            }
            match line.strip_prefix(REPLY_PREFIX) {
                Some(json) => {
                    let answer: Result<T, String> =
                        serde_json::from_str(json).context("reading the sync worker's answer")?;
                    return answer.map_err(|e| anyhow!(e));
                }
                None => eprint!("{line}"),
            }
        }
    }
}

impl Drop for Worker {
    /// Close its input (the worker exits) and reap it.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

// ---- the worker's side

/// Run as the worker: set up the harness, answer [`Ready`], then serve commands from
/// stdin until `quit` or its end.
pub fn serve(config: &str) -> anyhow::Result<()> {
    let config: WorkerConfig = serde_json::from_str(config).context("the worker's config")?;
    let mut server = match Server::start(&config) {
        Ok((server, ready)) => {
            reply(&Ok::<_, String>(ready))?;
            server
        }
        Err(e) => return reply(&Err::<Ready, _>(format!("{e:#}"))),
    };
    for line in std::io::stdin().lock().lines() {
        match serde_json::from_str(&line?).context("a command to the worker")? {
            Command::Sync { incremental, deep } => {
                reply(&server.sync(incremental, deep).map_err(|e| format!("{e:#}")))?
            }
            Command::Logins { logins } => reply(&Ok::<_, String>(server.logins(&logins)))?,
            Command::Quit => return reply(&Ok::<_, String>(server.peak())),
        }
    }
    Ok(())
}

/// One answer line on stdout.
fn reply<T: Serialize>(answer: &Result<T, String>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{REPLY_PREFIX}{}", serde_json::to_string(answer)?)?;
    out.flush()?;
    Ok(())
}

/// The worker's harness and its memory high-water mark.
struct Server {
    harness: Harness,
    /// Highest VmHWM seen so far (before each reset and after each call), KiB.
    peak_kb: u64,
}

impl Server {
    /// Load the component, open the store and create the bench connector (see
    /// [`WorkerConfig`]).
    fn start(config: &WorkerConfig) -> anyhow::Result<(Server, Ready)> {
        let t = Instant::now();
        let runtime = Arc::new(Runtime::bundled().map_err(|e| anyhow!("{e}"))?);
        let runtime_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut resolve = Resolve::default();
        resolve.insert(DOMAIN, config.sim_addr);
        let db = usersync::product::db::Db::open(&config.db)?;
        let harness = Harness::with(
            db,
            runtime,
            Options {
                resolve,
                limits: Limits {
                    memory_bytes: (config.guest_mib as usize) << 20,
                    ..Limits::default()
                },
                ..Options::default()
            },
        )?;
        let connector = harness.create_connector(&ConnectorPatch {
            name: Some(CONNECTOR.into()),
            okta_domain: Some(DOMAIN.into()),
            api_token: Some(TokenText(TOKEN.into())),
            user_attributes: Some(config.attributes.clone()),
            ..Default::default()
        })?;
        let ready = Ready {
            runtime_ms,
            rss_kb: procfs::rss_kb(),
            directory: connector.directory_id,
        };
        Ok((
            Server {
                harness,
                peak_kb: 0,
            },
            ready,
        ))
    }

    /// Reset VmHWM before a call, keeping the mark reached so far.
    fn reset_hwm(&mut self) {
        self.peak_kb = self.peak_kb.max(procfs::reset_hwm());
    }

    /// VmHWM after a call (reset before it), counted in the peak.
    fn hwm_kb(&mut self) -> u64 {
        let hwm = procfs::hwm_kb();
        self.peak_kb = self.peak_kb.max(hwm);
        hwm
    }

    /// The highest VmHWM over the worker's life so far, KiB.
    fn peak(&mut self) -> u64 {
        self.hwm_kb();
        self.peak_kb
    }

    /// One sync, measured from inside the sync process.
    fn sync(&mut self, incremental: bool, deep: bool) -> anyhow::Result<SyncRun> {
        self.reset_hwm();
        let rss_before_kb = procfs::rss_kb();
        let sampler = procfs::GuestSampler::start();
        let cpu = procfs::process_cpu_ms();
        let t = Instant::now();
        let outcome = self.harness.sync(
            CONNECTOR,
            SyncRequest {
                incremental,
                trigger: Trigger::Manual,
                deep_reconcile: deep,
                ..Default::default()
            },
        );
        let wall_ms = t.elapsed().as_secs_f64() * 1e3;
        let cpu_ms = procfs::process_cpu_ms() - cpu;
        let guest_kb = sampler.finish();
        let outcome = outcome.map_err(|e| anyhow!("sync failed: {e}"))?;
        let hwm_kb = self.hwm_kb();
        let r = &outcome.report;
        Ok(SyncRun {
            mode: match r.mode {
                wit::SyncMode::Full => "full".into(),
                wit::SyncMode::Incremental => "incremental".into(),
                wit::SyncMode::Feed => "feed".into(),
            },
            asked_incremental: incremental,
            guest_steps: self.guest_steps(outcome.run_id)?,
            wall_ms,
            fetch_ms: r.fetch_ms,
            plan_ms: r.plan_ms,
            apply_ms: r.apply_ms,
            requests_report: r.requests,
            writes: r.writes,
            changes: r.changes.len(),
            counts: counts(&r.counts),
            warnings: r.warnings.iter().take(5).cloned().collect(),
            rss_before_kb,
            hwm_kb,
            guest_kb,
            cpu_ms,
            ..SyncRun::default()
        })
    }

    /// `fetch 310 / mapping 420 / …` from the run's `guest memory after <step>: <n> MiB`
    /// debug lines. (Only the log: `Harness::run` would also parse the run's report, every
    /// change, and that heap would stay in this process's resident memory.)
    fn guest_steps(&self, run_id: i64) -> anyhow::Result<String> {
        let lines = usersync::product::db::runs::log_lines(&self.harness.db().lock(), run_id)?;
        Ok(lines
            .iter()
            .filter_map(|l| l.message.strip_prefix("guest memory after "))
            .map(|m| m.replace(':', "").replace(" MiB", ""))
            .collect::<Vec<_>>()
            .join(" / "))
    }

    /// Login syncs of `logins`, timed one by one.
    fn logins(&mut self, logins: &[String]) -> Logins {
        self.reset_hwm();
        let mut res = Logins::default();
        let mut latencies = Vec::with_capacity(logins.len());
        let mut requests = 0u64;
        for login in logins {
            let t = Instant::now();
            let r = self.harness.sync_user(CONNECTOR, login);
            latencies.push(t.elapsed().as_micros() as u64);
            match r {
                Ok(r) => {
                    requests += r.requests as u64;
                    res.changes += r.changes.len();
                }
                Err(e) => {
                    if res.errors == 0 {
                        eprintln!("login sync of {login} failed: {e}");
                    }
                    res.errors += 1;
                }
            }
        }
        res.hwm_kb = self.hwm_kb();
        res.requests_per_login = requests as f64 / latencies.len().max(1) as f64;
        res.set_latencies(latencies);
        res
    }
}

/// The report's counts, as text.
fn counts(c: &wit::SyncCounts) -> String {
    format!(
        "users +{} ~{} on {} off {}, groups +{} ~{}, memberships +{} -{}",
        c.users_created,
        c.users_updated,
        c.users_activated,
        c.users_deactivated,
        c.groups_created,
        c.groups_updated,
        c.memberships_added,
        c.memberships_removed
    )
}

impl Logins {
    /// `n`, mean and percentiles of these latencies (µs).
    fn set_latencies(&mut self, mut latencies: Vec<u64>) {
        self.n = latencies.len();
        self.mean_us = latencies.iter().sum::<u64>() / latencies.len().max(1) as u64;
        latencies.sort_unstable();
        self.p50_us = percentile(&latencies, 0.50);
        self.p99_us = percentile(&latencies, 0.99);
        self.max_us = latencies.last().copied().unwrap_or(0);
    }
}

/// The `p`-th percentile (nearest rank) of sorted values.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_one_json_line_each() {
        for c in [
            Command::Sync {
                incremental: true,
                deep: false,
            },
            Command::Sync {
                incremental: false,
                deep: true,
            },
            Command::Logins {
                logins: vec!["a@example.com".into(), "b@example.com".into()],
            },
            Command::Quit,
        ] {
            let line = serde_json::to_string(&c).unwrap();
            assert!(!line.contains('\n'));
            assert_eq!(serde_json::from_str::<Command>(&line).unwrap(), c);
        }
        assert_eq!(
            serde_json::to_string(&Command::Sync {
                incremental: false,
                deep: false
            })
            .unwrap(),
            r#"{"cmd":"sync","incremental":false}"#
        );
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&[], 0.5), 0);
        let mut l = Logins::default();
        l.set_latencies(vec![30, 10, 20]);
        assert_eq!((l.n, l.p50_us, l.max_us, l.mean_us), (3, 20, 30, 20));
    }
}
