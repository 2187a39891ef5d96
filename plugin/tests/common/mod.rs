//! What the sync tests share: a scripted Okta, the connector and the host context.
#![allow(dead_code)]

use plugin::config::ConnectorConfig;
use plugin::okta::{HttpResponse, Transport, TransportError};
use plugin::sync::Context;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

pub const ORIGIN: &str = "https://acme.okta.com";
pub const USERS: &str = "/api/v1/users?limit=200";
pub const GROUPS: &str = "/api/v1/groups?limit=10000";

/// Answers by URL (path and query), the same answer every time it is asked; counts the
/// requests and records the waits instead of sleeping.
#[derive(Default)]
pub struct Routes {
    pub answers: HashMap<String, HttpResponse>,
    /// Answers to URLs that start with a prefix (path and query), when none is exact.
    pub prefixes: Vec<(String, HttpResponse)>,
    pub asked: Vec<String>,
    pub slept: Vec<Duration>,
}

impl Routes {
    pub fn json(&mut self, path: &str, body: &Value) -> &mut Self {
        self.raw(path, body.to_string().into_bytes(), &[])
    }

    pub fn raw(&mut self, path: &str, body: Vec<u8>, links: &[&str]) -> &mut Self {
        self.answers.insert(
            format!("{ORIGIN}{path}"),
            HttpResponse {
                status: 200,
                headers: links
                    .iter()
                    .map(|l| ("link".to_string(), format!("<{ORIGIN}{l}>; rel=\"next\"")))
                    .chain([("content-type".into(), "application/json".into())])
                    .collect(),
                body,
            },
        );
        self
    }

    /// A full org: these users on one page, `Everyone` and the given groups, members.
    pub fn org(users: Value, groups: Value, members: &[(&str, Value)]) -> Routes {
        let mut r = Routes::default();
        r.json(USERS, &users);
        let mut all =
            vec![json!({"id": "00gEveryone", "type": "BUILT_IN", "profile": {"name": "Everyone"}})];
        all.extend(groups.as_array().cloned().unwrap_or_default());
        r.json(GROUPS, &Value::Array(all));
        for (gid, m) in members {
            r.json(&format!("/api/v1/groups/{gid}/users?limit=1000"), m);
        }
        r
    }

    /// Answer every URL that starts with `prefix` (when none is exact) with `body`.
    pub fn json_prefix(&mut self, prefix: &str, body: &Value) -> &mut Self {
        let exact = format!("{ORIGIN}{prefix}");
        self.json(prefix, body);
        let r = self.answers.remove(&exact).expect("just added");
        self.prefixes.push((prefix.to_string(), r));
        self
    }

    pub fn count(&self, path: &str) -> usize {
        let url = format!("{ORIGIN}{path}");
        self.asked.iter().filter(|u| **u == url).count()
    }
}

impl Transport for &mut Routes {
    fn get(
        &mut self,
        url: &str,
        _headers: &[(&'static str, &str)],
    ) -> Result<HttpResponse, TransportError> {
        self.asked.push(url.to_string());
        let by_prefix = || {
            self.prefixes
                .iter()
                .find(|(p, _)| url.starts_with(&format!("{ORIGIN}{p}")))
                .map(|(_, r)| r.clone())
        };
        Ok(self
            .answers
            .get(url)
            .cloned()
            .or_else(by_prefix)
            .unwrap_or_else(|| HttpResponse {
                status: 404,
                headers: vec![],
                body: br#"{"errorCode":"E0000007","errorSummary":"Not found"}"#.to_vec(),
            }))
    }

    fn sleep(&mut self, d: Duration) {
        self.slept.push(d);
    }
}

pub fn cfg() -> ConnectorConfig {
    ConnectorConfig {
        name: "okta".into(),
        okta_domain: "acme.okta.com".into(),
        user_attributes: vec!["department".into()],
        ..Default::default()
    }
}

pub fn ctx() -> Context {
    Context {
        directory: "2".into(),
        now: 1_800_000_000,
        ..Default::default()
    }
}

pub fn user(id: &str, status: &str, login: &str) -> Value {
    json!({"id": id, "status": status, "profile": {"login": login, "email": login, "firstName": "F", "lastName": "L"}})
}
