//! What a connector knows between calls (the WIT `sync-state` record): one typed value
//! the host keeps as it is, instead of string keys.

/// When Okta last reported a group's membership changed, as last read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMark {
    /// The Okta group id.
    pub okta_id: String,
    /// Okta's `lastMembershipUpdated` when the members were last read.
    pub last_membership_updated: String,
}

/// What a connector that has synced knows; a connector that never synced (or was reset)
/// has none (`Option<ConnectorState>` is the whole of its knowledge).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectorState {
    /// Host time (Unix seconds) at the start of the last successful full sync.
    pub last_full_sync: i64,
    /// Host time at the start of the last successful deep reconcile, if any.
    pub last_deep_reconcile: Option<i64>,
    /// Okta's clock (RFC 3339) at the start of the last successful sync: incremental
    /// syncs read what changed since, minus a margin.
    pub okta_cursor: String,
    /// The System Log `next` link, when the change feed is on (this version never sets it).
    pub feed_cursor: Option<String>,
    /// Groups' `lastMembershipUpdated` as last read: a full sync that is not a deep
    /// reconcile skips the member lists of the groups whose mark is unchanged.
    pub group_marks: Vec<GroupMark>,
    /// Users (final usernames) the last sync denied a licence seat.
    pub seats_denied: Vec<String>,
}
