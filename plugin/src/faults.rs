//! Test-only misbehaviours (feature `test-faults`), to prove the host's sandbox with a
//! real guest: a connector named `fault:panic`, `fault:loop`, `fault:alloc` or
//! `fault:fetch:URL` makes `sync` do exactly that. Never compiled into the shipped
//! component.
//!
//! The guest never holds the API token, so `fault:fetch:URL` sends what a hostile guest
//! could: a credential of its own making ([`FORGED_AUTHORIZATION`]). The host must refuse
//! the request unless it goes to the connector's Okta host, and there replace the header
//! with the real one.

use crate::okta::Transport;

/// The `Authorization` header `fault:fetch:URL` sets on its request.
pub const FORGED_AUTHORIZATION: &str = "SSWS forged-by-the-guest";

/// What a fault name asks for, if it is one.
pub fn trigger(name: &str, transport: &mut impl Transport) -> Option<Result<(), String>> {
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
            Some(
                transport
                    .get(url, &[("Authorization", FORGED_AUTHORIZATION)])
                    .map(|_| ())
                    .map_err(|e| e.0),
            )
        }
    }
}
