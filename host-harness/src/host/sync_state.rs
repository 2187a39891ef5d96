//! `sync-state`: per-connector key/value state. Reads see the stored values and this
//! call's own writes; writes are kept until the call succeeds, then committed.

use super::HostState;
use crate::host::bindings::usersync::okta::sync_state;
use crate::product::db::connectors;

impl sync_state::Host for HostState {
    fn get(&mut self, key: String) -> Option<String> {
        if let Some((_, v)) = self.state_writes.iter().rev().find(|(k, _)| *k == key) {
            return Some(v.clone());
        }
        let id = self.scope.connector_id?;
        self.with_conn(|c| connectors::state_get(c, id, &key))
            .ok()
            .flatten()
    }

    fn set(&mut self, key: String, value: String) {
        self.state_writes.push((key, value));
    }
}
