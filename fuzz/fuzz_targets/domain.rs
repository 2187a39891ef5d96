//! Okta domains as admins paste them: any text through `normalize_domain`. Never panics;
//! an accepted domain is lowercase ASCII without scheme, path, port or user info, is not
//! an Admin Console host, and normalizes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::config::normalize_domain;

fuzz_target!(|input: &str| {
    match normalize_domain(input) {
        Ok(d) => {
            assert!(d.is_ascii());
            assert_eq!(d, d.to_ascii_lowercase());
            assert!(!d.contains(['/', ':', '@', '?', '#', ' ']));
            assert!(d.contains('.'));
            assert!(!d.split('.').next().unwrap().ends_with("-admin"));
            assert_eq!(normalize_domain(&d).as_ref(), Ok(&d));
        }
        Err(e) => {
            assert_eq!(e.field, "okta-domain");
            assert!(!e.message.is_empty());
        }
    }
});
