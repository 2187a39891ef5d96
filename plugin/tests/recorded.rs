//! Every 200 response recorded from real Okta orgs parses and maps to users / groups,
//! and every recorded error body maps to a typed error.
use plugin::config::ConnectorConfig;
use plugin::mapping;
use plugin::okta::{OktaGroup, OktaUser};
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Recorded {
    source: String,
    uri: String,
    status: u16,
    body: String,
}

fn recorded() -> Vec<Recorded> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/okta-recorded/responses.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture present"))
        .expect("fixture is JSON")
}

/// What kind of object a recorded URI returns.
fn kind(uri: &str) -> &'static str {
    let path = uri.split('?').next().unwrap();
    let segs: Vec<&str> = path
        .split("/api/v1/")
        .nth(1)
        .unwrap_or("")
        .split('/')
        .collect();
    match segs.as_slice() {
        ["users"] | ["groups", _, "users"] => "users",
        ["users", _] => "user",
        ["groups"] | ["users", _, "groups"] => "groups",
        ["groups", "rules"] => "other",
        ["groups", _] => "group",
        _ => "other",
    }
}

#[test]
fn every_recorded_200_body_parses_and_maps() {
    let cfg = ConnectorConfig::default();
    let (mut users, mut groups) = (0, 0);
    for r in recorded().into_iter().filter(|r| r.status == 200) {
        let ctx = format!("{} {}", r.source, r.uri);
        match kind(&r.uri) {
            "users" => {
                let list: Vec<OktaUser> =
                    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                for u in &list {
                    let d = mapping::map_user(u, &cfg).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                    assert_eq!(d.okta_id, u.id);
                    assert!(
                        !d.username.is_empty() && !d.display_name.is_empty(),
                        "{ctx}"
                    );
                }
                users += list.len();
            }
            "user" => {
                let u: OktaUser =
                    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                mapping::map_user(&u, &cfg).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                users += 1;
            }
            "groups" => {
                let list: Vec<OktaGroup> =
                    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                let d = mapping::desired(&[], &list, &[], &cfg);
                let built_in = list.iter().filter(|g| g.group_type == "BUILT_IN").count();
                assert_eq!(
                    d.groups.len(),
                    list.len() - built_in,
                    "{ctx}: Everyone is not synced by default"
                );
                groups += list.len();
            }
            "group" => {
                let g: OktaGroup =
                    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                assert!(!g.profile.name.is_empty(), "{ctx}");
                groups += 1;
            }
            _ => {
                serde_json::from_str::<Value>(&r.body).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            }
        }
    }
    assert!(
        users >= 20 && groups >= 4,
        "the fixture covers users ({users}) and groups ({groups})"
    );
}

#[test]
fn recorded_errors_map_to_typed_errors() {
    let errors: Vec<_> = recorded().into_iter().filter(|r| r.status >= 400).collect();
    assert!(!errors.is_empty());
    for r in errors {
        let e = plugin::okta::OktaError::from_response(r.status, r.body.as_bytes(), "/p");
        assert_eq!(
            e.kind,
            plugin::okta::OktaErrorKind::NotFound,
            "{}",
            r.source
        );
        assert_eq!(e.error_code.as_deref(), Some("E0000007"), "{}", r.source);
        assert!(e.summary.starts_with("Not found"), "{}", e.summary);
    }
}
