//! What this process uses, from `/proc/self`: resident memory, its high-water mark, the
//! wasm guests' linear memory, CPU time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

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

/// VmRSS now, KiB.
pub fn rss_kb() -> u64 {
    proc_kb("VmRSS:")
}

/// VmHWM (the highest VmRSS since start or since the last [`reset_hwm`]), KiB.
pub fn hwm_kb() -> u64 {
    proc_kb("VmHWM:")
}

/// Reset VmHWM to the current RSS (Linux ≥ 4.0); returns the HWM before the reset.
pub fn reset_hwm() -> u64 {
    let before = hwm_kb();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    before
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

/// CPU time of this process so far, ms, from `/proc/self/stat` (clock ticks of 10 ms,
/// threads that ended included).
pub fn process_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After the command: state is field 3, utime 14 and stime 15.
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 * 10.0)
        })
        .unwrap_or(0.0)
}

/// CPU time so far of this process's live threads named `name`, ms, from their
/// `schedstat` (nanoseconds).
pub fn threads_cpu_ms(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .unwrap_or_default()
                .trim()
                == name
        })
        .filter_map(|t| {
            let stat = std::fs::read_to_string(t.path().join("schedstat")).ok()?;
            stat.split_whitespace().next()?.parse::<u64>().ok()
        })
        .map(|ns| ns as f64 / 1e6)
        .sum()
}

/// Samples [`guest_rss_kb`] on a thread every 50 ms until finished; keeps the highest
/// value.
pub struct GuestSampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
}

impl GuestSampler {
    /// Start sampling.
    pub fn start() -> GuestSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
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

    /// Stop; the highest value seen, KiB.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}
