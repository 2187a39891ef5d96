//! Connector settings: structured arbitrary input through `configure`. Never panics;
//! refusals name known fields; an accepted config validates to itself.
#![no_main]
#![allow(clippy::needless_update)]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use plugin::config::{ConnectorConfig, UnknownAtLogin, configure};

#[derive(Arbitrary, Debug)]
struct Input {
    name: String,
    okta_domain: String,
    schedule: String,
    schedule_enabled: bool,
    include_built_in_groups: bool,
    user_attributes: Vec<String>,
    full_sync_interval_hours: u32,
    deny_unknown_at_login: bool,
    member_concurrency: u32,
}

const FIELDS: &[&str] = &[
    "name",
    "okta-domain",
    "schedule",
    "user-attributes",
    "full-sync-interval-hours",
    "member-concurrency",
];

fuzz_target!(|input: Input| {
    let cfg = ConnectorConfig {
        name: input.name,
        okta_domain: input.okta_domain,
        schedule: input.schedule,
        schedule_enabled: input.schedule_enabled,
        include_built_in_groups: input.include_built_in_groups,
        user_attributes: input.user_attributes,
        full_sync_interval_hours: input.full_sync_interval_hours,
        unknown_at_login: if input.deny_unknown_at_login {
            UnknownAtLogin::Deny
        } else {
            UnknownAtLogin::Keep
        },
        member_concurrency: input.member_concurrency,
        // Settings added later are fuzzed with their defaults.
        ..Default::default()
    };
    match configure(&cfg) {
        Ok(c) => assert_eq!(configure(&c), Ok(c.clone())),
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in errors {
                assert!(FIELDS.contains(&e.field.as_str()), "{e:?}");
            }
        }
    }
});
