//! A dry run of a plan of over 100,000 changes never holds the whole report in the host
//! (#20): the plugin sends the report's changes batch by batch (`run.record-changes`),
//! and the host writes each batch to the run record and lets it go. The host's heap is
//! counted by this test binary's global allocator (the wasm guest's linear memory is
//! mapped by wasmtime apart from it, the simulator's org is allocated before the count).

use okta_sim::{GenSpec, Org, SimConfig, Simulator};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use usersync::model::{ConnectorPatch, TokenText};
use usersync::product::db::run_changes;
use usersync::{Harness, SyncRequest};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

fn grow(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap bytes above the live bytes at its start, during `f`.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

const DOMAIN: &str = "acme.okta.com";

/// Changes a first sync's report counts.
fn total(c: &usersync::model::SyncCounts) -> u32 {
    c.users_created + c.users_updated + c.groups_created + c.memberships_changed()
}

#[test]
fn a_dry_run_of_a_100k_change_plan_never_holds_the_whole_report_in_the_host() {
    let sim = Simulator::start(
        Org::generate(&GenSpec {
            users: 10_000,
            groups: 100,
            memberships_per_user: 10,
            seed: 3,
        }),
        SimConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut resolve = usersync::host::http::Resolve::default();
    resolve.insert(DOMAIN, sim.addr());
    let options = usersync::Options {
        resolve,
        ..Default::default()
    };
    let h = Harness::open(&dir.path().join("usersync.db"), options).unwrap();
    h.create_connector(&ConnectorPatch {
        name: Some("okta".into()),
        okta_domain: Some(DOMAIN.into()),
        api_token: Some(TokenText("test-token".into())),
        ..Default::default()
    })
    .unwrap();
    let dry = SyncRequest {
        dry_run: true,
        ..Default::default()
    };
    let (outcome, dry_peak) = peak_during(|| h.start_sync("okta", dry).unwrap().run().unwrap());
    let changes = total(&outcome.report.counts);
    assert!(changes > 100_000, "{changes} changes");
    // What the whole report takes in the host, held at once.
    let (all, whole) = peak_during(|| run_changes::all(&h.db().lock(), outcome.run_id).unwrap());
    assert_eq!(all.len() as u64, u64::from(changes));
    // Measured: a dry-run peak of 3.5 MB (of which ~3 MB is what the same sync takes
    // without any change: HTTP bodies, store pages), the whole report 22.8 MB.
    assert!(
        dry_peak * 4 < whole,
        "the dry run took {dry_peak} bytes of the host's heap at its peak; the whole \
         report is {whole} bytes"
    );
}
