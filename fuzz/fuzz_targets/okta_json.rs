//! Okta response bodies: any bytes as a users page, a groups page, one user. Parsing
//! never panics; parsed users map (or are refused with a reason) and a mapped user has a
//! lowercase, trimmed, non-empty username; `desired` over the parsed lists never panics
//! and never holds two users with one id or username.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::config::ConnectorConfig;
use plugin::mapping;
use plugin::okta::{OktaGroup, OktaUser};
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    let cfg = ConnectorConfig {
        include_built_in_groups: data.first().is_some_and(|b| b & 1 == 1),
        user_attributes: vec!["department".into(), "title".into()],
        ..Default::default()
    };
    let users: Vec<OktaUser> = serde_json::from_slice(data).unwrap_or_default();
    let groups: Vec<OktaGroup> = serde_json::from_slice(data).unwrap_or_default();
    if let Ok(u) = serde_json::from_slice::<OktaUser>(data) {
        let _ = mapping::map_user(&u, &cfg);
    }
    for u in &users {
        if let Ok(d) = mapping::map_user(u, &cfg) {
            assert!(!d.username.is_empty());
            assert_eq!(d.username.trim(), d.username);
            assert_eq!(d.username, d.username.to_lowercase());
            assert!(!d.display_name.trim().is_empty());
        }
    }
    // Every group holds every user, as member lists would.
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let members: Vec<(String, Vec<String>)> =
        groups.iter().map(|g| (g.id.clone(), ids.clone())).collect();
    let d = mapping::desired(&users, &groups, &members, &cfg);
    let unique: HashSet<&str> = d.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(unique.len(), d.users.len());
    let unique: HashSet<&str> = d.users.iter().map(|u| u.okta_id.as_str()).collect();
    assert_eq!(unique.len(), d.users.len());
    // And the plan of that target state into an empty directory applies.
    let p = plugin::plan::plan(&d, &Default::default());
    let mut store = plugin::memory::MemoryStore::default();
    plugin::store::Store::apply(&mut store, "1", p.changes, false).expect("a plan applies");
});
