//! Schedules: any text (and a time) through `to_quartz`, `parse` and `next_runs`. Never
//! panics; an accepted expression normalizes to a fixed point and its runs are strictly
//! increasing and after the given time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::schedule;

fuzz_target!(|input: (&str, i64)| {
    let (expr, after) = input;
    let _ = schedule::to_quartz(expr);
    if schedule::parse(expr).is_err() {
        return;
    }
    let q = schedule::to_quartz(expr).expect("parsed expressions normalize");
    assert_eq!(schedule::to_quartz(&q).as_ref(), Ok(&q));
    if let Ok(runs) = schedule::next_runs(expr, after, 5) {
        for w in runs.windows(2) {
            assert!(w[0] < w[1]);
        }
        if let Some(first) = runs.first() {
            assert!(*first > after);
        }
    }
});
