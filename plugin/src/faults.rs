//! Test-only misbehaviours (feature `test-faults`), to prove the host's sandbox with a
//! real guest: a connector named `fault:panic`, `fault:loop`, `fault:alloc` or
//! `fault:fetch:URL` makes `sync` do exactly that. Never compiled into the shipped
//! component.

use crate::okta::Transport;

/// What a fault name asks for, if it is one.
pub fn trigger(
    name: &str,
    token: &str,
    transport: &mut impl Transport,
) -> Option<Result<(), String>> {
    match name.strip_prefix("fault:")? {
        "panic" => panic!("deliberate panic of the test-faults build"),
        "loop" => loop {
            std::hint::black_box(());
        },
        "alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        other => {
            let url = other.strip_prefix("fetch:")?;
            let auth = format!("SSWS {token}");
            Some(
                transport
                    .get(url, &[("Authorization", &auth)])
                    .map(|_| ())
                    .map_err(|e| e.0),
            )
        }
    }
}
