//! One size, measured end to end in this process.

use crate::Args;
use crate::native;
use anyhow::{Context as _, anyhow};
use okta_sim::{GenSpec, GroupType, Org, RateLimits, SimConfig, Simulator};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use usersync::bindings::wit;
use usersync::host::http::Resolve;
use usersync::runtime::{Limits, Runtime};
use usersync::{ConnectorInput, Harness, Options, SyncRequest};

/// The Okta domain of the bench connector (routed to the simulator).
pub const DOMAIN: &str = "acme.okta.com";
/// The simulator's token.
pub const TOKEN: &str = "test-token";
/// The bench connector.
pub const CONNECTOR: &str = "okta";

/// The most linear memory a wasm32 guest can address, MiB.
pub const MAX_GUEST_MIB: u64 = 4096;

/// Okta's default per-minute limits of the buckets a sync uses.
pub const USERS_LIMIT: u32 = 600;
/// `/api/v1/groups*` (list and members).
pub const GROUPS_LIMIT: u32 = 500;

/// One sync call as measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SyncRun {
    /// `full` or `incremental`: the mode the plugin reports it ran.
    pub mode: String,
    /// Whether incremental was asked for.
    pub asked_incremental: bool,
    /// Wall time of `Harness::sync`, ms (instantiation, fetch, plan, apply, report, run record).
    pub wall_ms: f64,
    /// The report's timings.
    pub fetch_ms: u64,
    /// Plan (desired state + store snapshot + diff).
    pub plan_ms: u64,
    /// Apply (batches of one SQLite transaction).
    pub apply_ms: u64,
    /// Requests the plugin counted.
    pub requests_report: u32,
    /// Requests the simulator saw.
    pub requests_sim: usize,
    /// Of those, in the users-list bucket.
    pub users_bucket: usize,
    /// In the groups bucket (`/api/v1/groups`, `/api/v1/groups/{id}/users`).
    pub groups_bucket: usize,
    /// Anything else.
    pub other_requests: usize,
    /// Answers other than 200.
    pub non_200: usize,
    /// Store rows written.
    pub writes: u32,
    /// Change entries in the report.
    pub changes: usize,
    /// The report's counts, as text.
    pub counts: String,
    /// The first warnings.
    pub warnings: Vec<String>,
    /// VmRSS before the call, KiB.
    pub rss_before_kb: u64,
    /// VmHWM during the call (reset just before), KiB.
    pub hwm_kb: u64,
    /// Highest resident size of the guest's linear memory seen (sampled every 50 ms), KiB.
    pub guest_kb: u64,
    /// The guest's linear memory after each step, from the run's debug log
    /// (`fetch 310 / mapping 420 / …`, MiB); empty when the log has none.
    pub guest_steps: String,
    /// CPU time of the whole process during the call, ms.
    pub cpu_ms: f64,
    /// Of that, the simulator's threads, ms.
    pub sim_cpu_ms: f64,
}

/// The request lower bound of a full sync.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LowerBound {
    /// ⌈listed users / 200⌉ (at least 1).
    pub users_pages: usize,
    /// ⌈groups / 10000⌉ (at least 1).
    pub group_pages: usize,
    /// Σ over synced groups of ⌈members / 1000⌉ (at least 1 each: an empty group
    /// still takes one request to learn that it is empty).
    pub member_pages: usize,
    /// The sum.
    pub total: usize,
}

/// Login-sync latency.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Logins {
    /// Logins timed.
    pub n: usize,
    /// Median, µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Slowest, µs.
    pub max_us: u64,
    /// Mean, µs.
    pub mean_us: u64,
    /// Requests per login (mean).
    pub requests_per_login: f64,
    /// Change entries over all logins (0 expected: the store is in sync).
    pub changes: usize,
    /// Failed logins.
    pub errors: usize,
    /// VmHWM during the logins, KiB.
    pub hwm_kb: u64,
}

/// The plan step natively vs in the component.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NativePlan {
    /// Native `mapping::desired`, ms (median).
    pub desired_ms: f64,
    /// Native store lookups of the users to create, ms (median).
    pub lookups_ms: f64,
    /// How many lookups.
    pub lookups: usize,
    /// Native `plan::plan` against an empty store, ms (median).
    pub plan_ms: f64,
    /// The component's `plan-ms` of the first full sync (same data, empty store).
    pub component_ms: u64,
    /// Change entries of the native plan (must equal the component's).
    pub native_changes: usize,
    /// Change entries the component reported.
    pub component_changes: usize,
    /// No-change sync: reading the store snapshot from SQLite natively, ms.
    pub nochange_snapshot_ms: f64,
    /// No-change sync: native desired + plan against that snapshot, ms (median).
    pub nochange_plan_ms: f64,
    /// The component's `plan-ms` of the no-change full sync (includes the snapshot over WIT).
    pub nochange_component_ms: u64,
    /// Native no-change plan entries (must be 0).
    pub nochange_native_changes: usize,
    /// VmHWM of the native comparison (not counted in the peak), KiB.
    pub hwm_kb: u64,
    /// The first sync's changes applied natively to a fresh SQLite store, ms (one run).
    pub apply_ms: f64,
    /// Rows that wrote.
    pub apply_writes: u32,
    /// Native heap held by the Okta snapshot (users, groups, member ids), MiB.
    pub snapshot_mb: f64,
    /// ... by the store snapshot after the first sync, MiB.
    pub store_mb: f64,
    /// ... by the desired state, MiB.
    pub desired_mb: f64,
    /// ... by the plan of the first sync (changes + report entries), MiB.
    pub plan_mb: f64,
    /// Peak heap of desired + plan above the snapshot, MiB.
    pub peak_mb: f64,
}

/// What was changed in Okta before the incremental sync.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Mutation {
    /// Users whose profile changed (title, department, last name, email).
    pub profiles: usize,
    /// Users suspended.
    pub suspended: usize,
    /// Users created (each in 3 groups).
    pub created: usize,
    /// Groups whose members changed (+2, -1).
    pub groups_members: usize,
    /// Of those, also with a new description.
    pub groups_described: usize,
}

/// The rate-limit view of a full sync.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RateFloor {
    /// Requests in the users bucket.
    pub users_requests: usize,
    /// Requests in the groups bucket.
    pub groups_requests: usize,
    /// Time the busiest bucket needs at Okta's default limit, s (buckets run side by side).
    pub floor_s: f64,
    /// Whether the enforced run below took place.
    pub enforced: bool,
    /// The compressed window (Okta: 60 s), ms.
    pub window_ms: u64,
    /// Fixed-window floor at that window: max over buckets of (⌈n/limit⌉ − 1) windows, ms.
    pub window_floor_ms: f64,
    /// The first full sync into an empty store against enforced limits.
    pub run: SyncRun,
    /// 429 answers met.
    pub n_429: usize,
    /// Why the sync failed, if it did.
    pub error: Option<String>,
}

/// Okta's default limits, enforced, in a compressed window.
fn enforced_limits(window: Duration) -> RateLimits {
    RateLimits::okta_defaults(window)
}

/// Limits so high that they never bind: what the plain measurements run with, so that
/// they show the sync's own cost, not Okta's pacing.
fn unbound_limits() -> RateLimits {
    let big = 1_000_000_000;
    RateLimits {
        users: big,
        user: big,
        groups: big,
        group: big,
        other: big,
        ..RateLimits::default()
    }
}

/// Everything measured for one size.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SizeResult {
    /// Users in the org (all statuses).
    pub users: usize,
    /// OKTA/APP groups (plus `Everyone`).
    pub groups: usize,
    /// Memberships in synced groups.
    pub memberships: usize,
    /// Users the users list returns (all but DEPROVISIONED).
    pub listed_users: usize,
    /// Generating the org, ms.
    pub gen_ms: f64,
    /// Loading the component, ms.
    pub runtime_ms: f64,
    /// The lower bound.
    pub lower: LowerBound,
    /// The guest memory limit the syncs ran with, MiB.
    pub guest_limit_mib: u64,
    /// Why the first full sync failed at the configured guest memory limit, if it did
    /// (it was then run again with the wasm32 maximum).
    pub full1_error: Option<String>,
    /// First full sync into the empty store.
    pub full1: SyncRun,
    /// Second full sync, nothing changed.
    pub full2: SyncRun,
    /// Incremental right after the full syncs, nothing changed.
    pub incr_first: SyncRun,
    /// Incremental after 1% of users and groups changed.
    pub incr_changed: SyncRun,
    /// Incremental after that, nothing changed.
    pub incr_nochange: SyncRun,
    /// A full sync after the incremental ones (writes 0 = incremental missed nothing).
    pub full_verify: SyncRun,
    /// What changed.
    pub mutation: Mutation,
    /// Login syncs.
    pub logins: Logins,
    /// Native vs component plan.
    pub native: NativePlan,
    /// Rate limits.
    pub rate: RateFloor,
    /// VmRSS before the first sync (org generated, simulator up, component loaded), KiB.
    pub rss_base_kb: u64,
    /// Highest VmHWM of the whole process (org generation, simulator, harness, guest),
    /// except the bench's own native-plan comparison, KiB.
    pub peak_kb: u64,
}

/// A `/proc/self/status` field in KiB.
pub fn proc_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// KiB of the wasm guests' linear memories (what they have grown to; a guest touches
/// what it grows, so this is its resident size). Wasmtime reserves 4 GiB of address space
/// for each memory: an accessible part followed by an inaccessible rest, found in
/// `/proc/self/maps` as a read-write mapping directly followed by a no-access one,
/// together at least 4 GiB. (`maps`, not `smaps`: that walks every page table, and at
/// 20 reads a second cost a fifth of a core.)
fn guest_rss_kb() -> u64 {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    // (start, end, accessible)
    let maps: Vec<(u64, u64, bool)> = maps
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (a, b) = words.next()?.split_once('-')?;
            let perms = words.next()?;
            Some((
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
                perms.starts_with("rw"),
            ))
        })
        .collect();
    maps.windows(2)
        .filter(|w| w[0].2 && !w[1].2 && w[0].1 == w[1].0 && w[1].1 - w[0].0 >= 4 << 30)
        .map(|w| (w[0].1 - w[0].0) >> 10)
        .sum()
}

/// CPU time so far, ms: (whole process, the simulator's threads). The process from
/// `/proc/self/stat` (clock ticks of 10 ms, threads that ended included); the simulator's
/// threads (named `okta-sim`) from their `schedstat`, in nanoseconds.
fn cpu_ms() -> (f64, f64) {
    let process = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After the command: state is field 3, utime 14 and stime 15.
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 * 10.0)
        })
        .unwrap_or(0.0);
    let mut sim = 0.0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if comm.trim() != "okta-sim" {
                continue;
            }
            let ns = std::fs::read_to_string(t.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0);
            sim += ns as f64 / 1e6;
        }
    }
    (process, sim)
}

/// Samples [`guest_rss_kb`] on a thread until dropped; keeps the highest value.
struct GuestSampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl GuestSampler {
    fn start() -> GuestSampler {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(guest_rss_kb());
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        });
        GuestSampler {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

/// Reset VmHWM to the current RSS (Linux ≥ 4.0); returns the HWM before the reset.
fn reset_hwm() -> u64 {
    let before = proc_kb("VmHWM:");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    before
}

fn active_status(s: &str) -> bool {
    matches!(s, "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "RECOVERY")
}

/// The lower bound of requests of a full sync of `org` with default page sizes.
pub fn lower_bound(org: &Org) -> LowerBound {
    let c = SimConfig::default();
    let pages = |n: usize, size: usize| n.div_ceil(size).max(1);
    let listed = org
        .users
        .iter()
        .filter(|u| u.status != "DEPROVISIONED")
        .count();
    let users_pages = pages(listed, c.max_users_limit);
    let group_pages = pages(org.groups.len(), c.max_groups_limit);
    let member_pages = org
        .groups
        .iter()
        .filter(|g| g.group_type != GroupType::BuiltIn)
        .map(|g| pages(g.members.len(), c.max_members_limit))
        .sum();
    LowerBound {
        users_pages,
        group_pages,
        member_pages,
        total: users_pages + group_pages + member_pages,
    }
}

/// The simulator, the harness and the connector of one size.
struct Env {
    sim: Simulator,
    harness: Harness,
    _dir: tempfile::TempDir,
    peak_kb: u64,
}

fn log(start: Instant, what: &str) {
    eprintln!("[{:>7.1} s] {what}", start.elapsed().as_secs_f64());
}

impl Env {
    fn start(
        org: Org,
        limits: RateLimits,
        runtime: Arc<Runtime>,
        args: &Args,
        guest_mib: u64,
    ) -> anyhow::Result<Env> {
        let sim = Simulator::start(
            org,
            SimConfig {
                rate_limits: limits,
                ..SimConfig::default()
            },
        );
        let dir = tempfile::tempdir().context("temp dir")?;
        let mut resolve = Resolve::default();
        resolve.insert(DOMAIN, sim.addr());
        let db = usersync::db::Db::open(&dir.path().join("bench.db"))?;
        let harness = Harness::with(
            db,
            runtime,
            Options {
                resolve,
                limits: Limits {
                    memory_bytes: (guest_mib as usize) << 20,
                    ..Limits::default()
                },
                ..Options::default()
            },
        )?;
        harness.create_connector(&ConnectorInput {
            name: CONNECTOR.into(),
            okta_domain: DOMAIN.into(),
            api_token: Some(TOKEN.into()),
            user_attributes: args.attributes.clone(),
            ..Default::default()
        })?;
        Ok(Env {
            sim,
            harness,
            _dir: dir,
            peak_kb: 0,
        })
    }

    /// `fetch 310 / mapping 420 / …` from the run's `guest memory after <step>: <n> MiB`
    /// debug lines.
    fn guest_steps(&self, run_id: i64) -> anyhow::Result<String> {
        let lines = self
            .harness
            .run(run_id)?
            .map(|(_, l)| l)
            .unwrap_or_default();
        Ok(lines
            .iter()
            .filter_map(|l| l.message.strip_prefix("guest memory after "))
            .map(|m| m.replace(':', "").replace(" MiB", ""))
            .collect::<Vec<_>>()
            .join(" / "))
    }

    fn sync(&mut self, incremental: bool) -> anyhow::Result<SyncRun> {
        self.sim.clear_requests();
        self.peak_kb = self.peak_kb.max(reset_hwm());
        let rss_before_kb = proc_kb("VmRSS:");
        let sampler = GuestSampler::start();
        let cpu = cpu_ms();
        let t = Instant::now();
        let outcome = self
            .harness
            .sync(
                CONNECTOR,
                SyncRequest {
                    incremental,
                    trigger: "bench",
                    ..Default::default()
                },
            )
            .map_err(|e| anyhow!("sync failed: {e}"));
        let wall_ms = t.elapsed().as_secs_f64() * 1e3;
        let cpu_after = cpu_ms();
        let guest_kb = sampler.finish();
        let outcome = outcome?;
        let hwm_kb = proc_kb("VmHWM:");
        self.peak_kb = self.peak_kb.max(hwm_kb);
        let guest_steps = self.guest_steps(outcome.run_id)?;
        let reqs = self.sim.requests();
        let r = &outcome.report;
        let users_bucket = reqs.iter().filter(|q| q.path == "/api/v1/users").count();
        let groups_bucket = reqs
            .iter()
            .filter(|q| {
                q.path == "/api/v1/groups"
                    || (q.path.starts_with("/api/v1/groups/") && q.path.ends_with("/users"))
            })
            .count();
        let c = &r.counts;
        Ok(SyncRun {
            mode: match r.mode {
                wit::SyncMode::Full => "full".into(),
                wit::SyncMode::Incremental => "incremental".into(),
            },
            asked_incremental: incremental,
            guest_steps,
            wall_ms,
            fetch_ms: r.fetch_ms,
            plan_ms: r.plan_ms,
            apply_ms: r.apply_ms,
            requests_report: r.requests,
            requests_sim: reqs.len(),
            users_bucket,
            groups_bucket,
            other_requests: reqs.len() - users_bucket - groups_bucket,
            non_200: reqs.iter().filter(|q| q.status != 200).count(),
            writes: r.writes,
            changes: r.changes.len(),
            counts: format!(
                "users +{} ~{} on {} off {}, groups +{} ~{}, memberships +{} -{}",
                c.users_created,
                c.users_updated,
                c.users_activated,
                c.users_deactivated,
                c.groups_created,
                c.groups_updated,
                c.memberships_added,
                c.memberships_removed
            ),
            warnings: r.warnings.iter().take(5).cloned().collect(),
            rss_before_kb,
            hwm_kb,
            guest_kb,
            cpu_ms: cpu_after.0 - cpu.0,
            sim_cpu_ms: cpu_after.1 - cpu.1,
        })
    }
}

fn describe(name: &str, s: &SyncRun) -> String {
    format!(
        "{name}: {:.0} ms (fetch {} / plan {} / apply {}), {} requests, {} writes, mode {}; CPU {:.1} s, simulator {:.1} s",
        s.wall_ms,
        s.fetch_ms,
        s.plan_ms,
        s.apply_ms,
        s.requests_sim,
        s.writes,
        s.mode,
        s.cpu_ms / 1e3,
        s.sim_cpu_ms / 1e3
    )
}

/// Change 1% of the users and 1% of the groups.
fn mutate(org: &mut Org, rng: &mut StdRng) -> Mutation {
    let mut m = Mutation::default();
    let active: Vec<String> = org
        .users
        .iter()
        .filter(|u| u.status == "ACTIVE")
        .map(|u| u.id.clone())
        .collect();
    let synced: Vec<String> = org
        .groups
        .iter()
        .filter(|g| g.group_type != GroupType::BuiltIn)
        .map(|g| g.id.clone())
        .collect();
    let n_users = (org.users.len() / 100).max(1);
    let picks: Vec<&String> = active.choose_multiple(rng, n_users).collect();
    for (k, id) in picks.into_iter().enumerate() {
        match k % 10 {
            0..=3 => org.set_profile(id, "title", format!("Principal {k}").into()),
            4 | 5 => org.set_profile(id, "lastName", format!("Changed{k}").into()),
            6 => org.set_profile(id, "department", "Reorganized".into()),
            7 => org.set_profile(id, "email", format!("moved{k}@example.org").into()),
            8 => {
                org.set_status(id, "SUSPENDED");
                m.suspended += 1;
                continue;
            }
            _ => {
                let login = format!("new.hire{k}@example.com");
                let nid = org.add_user(&login, "New", &format!("Hire{k}"), "ACTIVE");
                org.set_profile(&nid, "department", "Engineering".into());
                for g in synced.choose_multiple(rng, 3) {
                    org.add_member(g, &nid);
                }
                m.created += 1;
                continue;
            }
        }
        m.profiles += 1;
    }
    let n_groups = (synced.len() / 100).max(1);
    let gpicks: Vec<String> = synced.choose_multiple(rng, n_groups).cloned().collect();
    for (k, gid) in gpicks.iter().enumerate() {
        for _ in 0..2 {
            if let Some(u) = active.choose(rng) {
                org.add_member(gid, u);
            }
        }
        let first = org.group(gid).and_then(|g| g.members.first().cloned());
        if let Some(u) = first {
            org.remove_member(gid, &u);
        }
        if k % 2 == 0
            && let Some(g) = org.groups.iter_mut().find(|g| &g.id == gid)
        {
            g.description = Some(format!("Reorganized team {k}"));
            g.last_updated =
                chrono::Utc::now().max(g.last_updated + chrono::Duration::milliseconds(1));
            m.groups_described += 1;
        }
        m.groups_members += 1;
    }
    m
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Measure one size.
pub fn run(args: &Args, users: usize, groups: usize) -> anyhow::Result<SizeResult> {
    let start = Instant::now();
    let mut res = SizeResult {
        users,
        groups,
        ..Default::default()
    };

    let t = Instant::now();
    let org = Org::generate(&GenSpec {
        users,
        groups,
        memberships_per_user: args.memberships_per_user,
        seed: args.seed,
    });
    res.gen_ms = t.elapsed().as_secs_f64() * 1e3;
    res.lower = lower_bound(&org);
    res.listed_users = org
        .users
        .iter()
        .filter(|u| u.status != "DEPROVISIONED")
        .count();
    res.memberships = org
        .groups
        .iter()
        .filter(|g| g.group_type != GroupType::BuiltIn)
        .map(|g| g.members.len())
        .sum();
    let logins: Vec<String> = org
        .users
        .iter()
        .filter(|u| active_status(&u.status))
        .filter_map(|u| u.profile.get("login")?.as_str().map(str::to_string))
        .collect();
    log(
        start,
        &format!(
            "org: {users} users, {groups} groups, {} memberships; lower bound {} requests",
            res.memberships, res.lower.total
        ),
    );

    let t = Instant::now();
    let runtime = Arc::new(Runtime::bundled().map_err(|e| anyhow!("{e}"))?);
    res.runtime_ms = t.elapsed().as_secs_f64() * 1e3;
    let default_mib = (Limits::default().memory_bytes >> 20) as u64;
    res.guest_limit_mib = if args.guest_memory_mib > 0 {
        args.guest_memory_mib
    } else {
        default_mib
    };
    let mut env = Env::start(
        org,
        unbound_limits(),
        runtime.clone(),
        args,
        res.guest_limit_mib,
    )?;
    res.rss_base_kb = proc_kb("VmRSS:");

    // ---- full syncs
    res.full1 = match env.sync(false) {
        Ok(run) => run,
        Err(e) if res.guest_limit_mib < MAX_GUEST_MIB && e.to_string().contains("memory limit") => {
            // Tell it, then go on with the most a wasm32 guest can have, so that the
            // other measures still exist.
            log(start, &format!("full sync (empty store) failed: {e}"));
            res.full1_error = Some(format!("{e} (guest limit {} MiB)", res.guest_limit_mib));
            res.guest_limit_mib = MAX_GUEST_MIB;
            let org = env.sim.with_org(std::mem::take);
            drop(env);
            env = Env::start(
                org,
                unbound_limits(),
                runtime.clone(),
                args,
                res.guest_limit_mib,
            )?;
            res.rss_base_kb = proc_kb("VmRSS:");
            env.sync(false)?
        }
        Err(e) => return Err(e),
    };
    let directory = env.harness.connector(CONNECTOR)?.directory_id;
    log(start, &describe("full sync (empty store)", &res.full1));
    res.rate = RateFloor {
        users_requests: res.full1.users_bucket,
        groups_requests: res.full1.groups_bucket,
        floor_s: (res.full1.users_bucket as f64 / USERS_LIMIT as f64)
            .max(res.full1.groups_bucket as f64 / GROUPS_LIMIT as f64)
            * 60.0,
        ..Default::default()
    };
    res.full2 = env.sync(false)?;
    log(start, &describe("full sync (no change)", &res.full2));
    if let Some(path) = &args.keep_db {
        let _ = std::fs::remove_file(path);
        env.harness
            .db()
            .lock()
            .execute("VACUUM INTO ?1", [path])
            .context("copying the store")?;
    }

    // ---- the plan natively, on the same data
    env.peak_kb = env.peak_kb.max(reset_hwm());
    let cfg = plugin::config::ConnectorConfig {
        name: CONNECTOR.into(),
        okta_domain: DOMAIN.into(),
        user_attributes: args.attributes.clone(),
        ..Default::default()
    };
    let live = crate::alloc::live();
    let snap = env.sim.with_org(|org| native::okta_snapshot(org));
    res.native.snapshot_mb = crate::alloc::live().saturating_sub(live) as f64 / 1048576.0;
    let empty = plugin::store::DirectorySnapshot::default();
    let runs = args.native_runs.max(1);
    let mut desired_ms = Vec::new();
    let mut plan_ms = Vec::new();
    let mut nochange_ms = Vec::new();
    let live = crate::alloc::live();
    let t = Instant::now();
    let store = native::store_snapshot(&env.harness, directory)?;
    res.native.nochange_snapshot_ms = t.elapsed().as_secs_f64() * 1e3;
    res.native.store_mb = crate::alloc::live().saturating_sub(live) as f64 / 1048576.0;
    let mb = |b: usize| b as f64 / 1048576.0;
    let planner = native::Planner::new(&cfg)?;
    let mut lookups_ms = Vec::new();
    {
        let db = env.harness.db().lock();
        for _ in 0..runs {
            let t = planner.time_plan(&snap, &empty, &db);
            desired_ms.push(t.desired_ms);
            lookups_ms.push(t.lookups_ms);
            plan_ms.push(t.plan_ms);
            res.native.lookups = t.lookups;
            res.native.native_changes = t.plan.entries.len();
            res.native.desired_mb = mb(t.desired_bytes);
            res.native.plan_mb = mb(t.plan_bytes);
            res.native.peak_mb = mb(t.peak_bytes);
            if res.native.apply_ms == 0.0 {
                let (ms, writes) = native::time_apply(&t.plan.changes)?;
                res.native.apply_ms = ms;
                res.native.apply_writes = writes;
            }
            drop(t);
            let t = planner.time_plan(&snap, &store, &db);
            nochange_ms.push(t.desired_ms + t.lookups_ms + t.plan_ms);
            res.native.nochange_native_changes = t.plan.entries.len();
        }
    }
    drop((snap, store));
    // The native comparison is the bench's own work: not part of the sync's peak.
    res.native.hwm_kb = reset_hwm();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    res.native.desired_ms = median(&mut desired_ms);
    res.native.plan_ms = median(&mut plan_ms);
    res.native.lookups_ms = median(&mut lookups_ms);
    res.native.nochange_plan_ms = median(&mut nochange_ms);
    res.native.component_ms = res.full1.plan_ms;
    res.native.component_changes = res.full1.changes;
    res.native.nochange_component_ms = res.full2.plan_ms;
    log(
        start,
        &format!(
            "native plan: desired {:.1} ms + {} lookups {:.1} ms + plan {:.1} ms vs component {} ms; no change: snapshot {:.1} + {:.1} ms vs component {} ms; apply natively {:.0} ms",
            res.native.desired_ms,
            res.native.lookups,
            res.native.lookups_ms,
            res.native.plan_ms,
            res.native.component_ms,
            res.native.nochange_snapshot_ms,
            res.native.nochange_plan_ms,
            res.native.nochange_component_ms,
            res.native.apply_ms
        ),
    );

    // ---- incremental
    res.incr_first = env.sync(true)?;
    log(start, &describe("incremental (no change)", &res.incr_first));
    // Changes in Okta come after the sync, not within the same instant.
    std::thread::sleep(Duration::from_millis(1100));
    let mut rng = StdRng::seed_from_u64(args.seed ^ 0x5eed);
    res.mutation = env.sim.with_org(|org| mutate(org, &mut rng));
    res.incr_changed = env.sync(true)?;
    log(
        start,
        &describe("incremental (1% changed)", &res.incr_changed),
    );
    res.incr_nochange = env.sync(true)?;
    log(
        start,
        &describe("incremental (no change)", &res.incr_nochange),
    );
    res.full_verify = env.sync(false)?;
    log(
        start,
        &describe("full sync (after incremental)", &res.full_verify),
    );

    // ---- logins
    env.peak_kb = env.peak_kb.max(reset_hwm());
    let mut lat = Vec::with_capacity(args.logins);
    let mut requests = 0u64;
    for _ in 0..args.logins {
        let login = logins
            .get(rng.random_range(0..logins.len().max(1)))
            .cloned()
            .unwrap_or_default();
        let t = Instant::now();
        let r = env.harness.sync_user(CONNECTOR, &login);
        lat.push(t.elapsed().as_micros() as u64);
        match r {
            Ok(r) => {
                requests += r.requests as u64;
                res.logins.changes += r.changes.len();
            }
            Err(e) => {
                if res.logins.errors == 0 {
                    eprintln!("login sync of {login} failed: {e}");
                }
                res.logins.errors += 1;
            }
        }
    }
    res.logins.hwm_kb = proc_kb("VmHWM:");
    env.peak_kb = env.peak_kb.max(res.logins.hwm_kb);
    res.logins.n = lat.len();
    res.logins.mean_us = lat.iter().sum::<u64>() / lat.len().max(1) as u64;
    lat.sort_unstable();
    res.logins.p50_us = percentile(&lat, 0.50);
    res.logins.p99_us = percentile(&lat, 0.99);
    res.logins.max_us = lat.last().copied().unwrap_or(0);
    res.logins.requests_per_login = requests as f64 / lat.len().max(1) as f64;
    log(
        start,
        &format!(
            "{} login syncs: p50 {:.2} ms, p99 {:.2} ms, {:.1} requests each",
            res.logins.n,
            res.logins.p50_us as f64 / 1e3,
            res.logins.p99_us as f64 / 1e3,
            res.logins.requests_per_login
        ),
    );
    res.peak_kb = env.peak_kb;

    // ---- Okta-default limits, enforced, in a compressed window: a first full sync of
    // the same org into a fresh store. Memory of this phase is not counted in the peak.
    if args.rate_window_ms > 0 {
        let org = env.sim.with_org(std::mem::take);
        drop(env);
        let window = Duration::from_millis(args.rate_window_ms);
        let windows = |n: usize, limit: u32| n.div_ceil(limit as usize).saturating_sub(1);
        res.rate.window_ms = args.rate_window_ms;
        res.rate.window_floor_ms = windows(res.full1.users_bucket, USERS_LIMIT)
            .max(windows(res.full1.groups_bucket, GROUPS_LIMIT))
            as f64
            * args.rate_window_ms as f64;
        let mut env = Env::start(
            org,
            enforced_limits(window),
            runtime,
            args,
            res.guest_limit_mib,
        )?;
        res.rate.enforced = true;
        match env.sync(false) {
            Ok(run) => res.rate.run = run,
            Err(e) => res.rate.error = Some(e.to_string()),
        }
        res.rate.n_429 = env
            .sim
            .requests()
            .iter()
            .filter(|q| q.status == 429)
            .count();
        log(
            start,
            &format!(
                "{}; {} answers 429; fixed-window floor {:.1} s",
                describe(
                    &format!("enforced Okta limits, {} ms window", args.rate_window_ms),
                    &res.rate.run
                ),
                res.rate.n_429,
                res.rate.window_floor_ms / 1e3
            ),
        );
    }
    Ok(res)
}

/// The native plan and apply of a first sync of one size, alone (for profiling).
pub fn only_native(args: &Args, users: usize, groups: usize) -> anyhow::Result<()> {
    let start = Instant::now();
    let org = Org::generate(&GenSpec {
        users,
        groups,
        memberships_per_user: args.memberships_per_user,
        seed: args.seed,
    });
    let snap = native::okta_snapshot(&org);
    drop(org);
    log(start, "org and Okta snapshot");
    let cfg = plugin::config::ConnectorConfig {
        name: CONNECTOR.into(),
        okta_domain: DOMAIN.into(),
        user_attributes: args.attributes.clone(),
        ..Default::default()
    };
    let planner = native::Planner::new(&cfg)?;
    let dir = tempfile::tempdir()?;
    let db = usersync::db::Db::open(&dir.path().join("lookups.db"))?;
    let empty = plugin::store::DirectorySnapshot::default();
    let t = planner.time_plan(&snap, &empty, &db.lock());
    log(
        start,
        &format!(
            "desired {:.0} ms, {} lookups {:.0} ms, plan {:.0} ms ({} changes)",
            t.desired_ms,
            t.lookups,
            t.lookups_ms,
            t.plan_ms,
            t.plan.changes.len()
        ),
    );
    let (ms, writes) = native::time_apply(&t.plan.changes)?;
    log(start, &format!("apply {ms:.0} ms ({writes} rows)"));
    let (users_ms, members_ms) = native::time_apply_split(&t.plan.changes)?;
    log(
        start,
        &format!(
            "apply in two batches: users and groups {users_ms:.0} ms, memberships {members_ms:.0} ms"
        ),
    );
    Ok(())
}
