//! `usersync-bench`: how fast and how frugal the Okta sync is at 1k, 10k and 100k users.
//!
//! For each size it generates an org (`okta_sim::Org::generate`), serves it from the
//! simulator on loopback, and drives the shipped component through the harness API
//! (`Harness::sync`, `Harness::sync_user`) into a fresh SQLite store in a temp dir. Each
//! size runs in its own child process; within it, the harness, the wasm guest and the
//! store run in a further child, the sync worker, so that the sync's peak resident
//! memory is its own, without the simulator and its org.
//!
//! It measures full-sync wall time (fetch / plan / apply), HTTP requests against the
//! lower bound, a no-change full sync, incremental syncs (1% changed, no change),
//! login-sync latency, memory, the plan step native vs in the component, and the
//! rate-limit floor. The table goes to stdout and into `BENCHMARKS.md` between markers.

mod alloc;
mod measure;
mod native;
mod procfs;
mod render;
mod sso;
mod worker;

use anyhow::{Context as _, bail};
use clap::Parser;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Benchmark of the Okta → Atlassian sync against the simulator on loopback.
#[derive(Parser, Debug, Clone)]
#[command(name = "usersync-bench")]
pub struct Args {
    /// Org sizes (users), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    pub sizes: Vec<usize>,
    /// Okta groups per size, comma-separated (default: users / 20, at least 50; 5,000 at 100k).
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<usize>,
    /// About how many groups each user belongs to.
    #[arg(long, default_value_t = 10)]
    pub memberships_per_user: usize,
    /// Login syncs timed per size.
    #[arg(long, default_value_t = 1000)]
    pub logins: usize,
    /// Native plan runs per size (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub native_runs: usize,
    /// Window of the enforced Okta-default rate limits, ms (Okta: 60000; 0 skips that run).
    #[arg(long, default_value_t = 6000)]
    pub rate_window_ms: u64,
    /// Guest (wasm) memory limit, MiB (0: the harness default, 1024). If the first full
    /// sync fails on it, that is reported and the size runs again at 4096.
    #[arg(long, default_value_t = 0)]
    pub guest_memory_mib: u64,
    /// Seed of the generated orgs and of the random choices.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Profile attributes the connector copies to user attributes.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "department,title,employeeNumber,costCenter"
    )]
    pub attributes: Vec<String>,
    /// Where to write the results (between the `bench:results` markers); `-` for nowhere.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md"))]
    pub out: String,
    /// Copy the store after the first two full syncs to this file (for inspection).
    #[arg(long, hide = true)]
    pub keep_db: Option<String>,
    /// Only the native plan and apply of the first sync of one size (for profiling).
    #[arg(long, hide = true)]
    pub only_native: Option<usize>,
    /// Only the SSO login latency: this many logins through the whole OpenID Connect
    /// flow (and as many again), against an org of the first size (see `sso.rs`).
    #[arg(long)]
    pub sso_logins: Option<usize>,
    /// Run one size in this process and print its result as JSON (used by the parent).
    #[arg(long, hide = true)]
    pub child: Option<usize>,
    /// Serve syncs for a size's process: the harness of the given JSON config, commands
    /// on stdin, answers on stdout (see `worker.rs`).
    #[arg(long, hide = true)]
    pub worker: Option<String>,
}

impl Args {
    /// Groups for the `i`-th size.
    pub fn groups_for(&self, i: usize, users: usize) -> usize {
        self.groups
            .get(i)
            .copied()
            .unwrap_or_else(|| (users / 20).max(50))
    }
}

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

const RESULT_PREFIX: &str = "BENCH-RESULT ";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(config) = &args.worker {
        return worker::serve(config);
    }
    if let Some(n) = args.sso_logins {
        return sso::run(&args, n);
    }
    if let Some(users) = args.only_native {
        let i = args.sizes.iter().position(|&s| s == users).unwrap_or(0);
        return measure::only_native(&args, users, args.groups_for(i, users));
    }
    if let Some(users) = args.child {
        let i = args.sizes.iter().position(|&s| s == users).unwrap_or(0);
        let groups = args.groups_for(i, users);
        let result = measure::run(&args, users, groups)?;
        println!("{RESULT_PREFIX}{}", serde_json::to_string(&result)?);
        return Ok(());
    }

    let command = std::iter::once("cargo run --release -p usersync-bench --".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let exe = std::env::current_exe().context("locating the bench binary")?;
    let mut results = Vec::new();
    for &users in &args.sizes {
        eprintln!("== {users} users ==");
        let mut child = Command::new(&exe)
            .args(std::env::args_os().skip(1))
            .arg("--child")
            .arg(users.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a child run")?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut found = None;
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            match line.strip_prefix(RESULT_PREFIX) {
                Some(json) => found = Some(serde_json::from_str::<measure::SizeResult>(json)?),
                None => println!("{line}"),
            }
        }
        let status = child.wait()?;
        match found {
            Some(r) if status.success() => results.push(r),
            _ => bail!("the run of {users} users failed ({status})"),
        }
    }

    let doc = render::document(&results, &command, &render::Machine::read());
    println!("\n{doc}");
    if args.out != "-" {
        let path = PathBuf::from(&args.out);
        render::write_into(&path, &doc)?;
        eprintln!("written to {}", path.display());
    }
    Ok(())
}
