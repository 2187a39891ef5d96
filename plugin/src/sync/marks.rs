//! Group marks: Okta's `lastMembershipUpdated` of each group as last read, so that a
//! full sync re-reads only the member lists of groups whose membership changed since.
//!
//! At 100k users a full sync is 5,491 requests, 5,000 of them member lists in Okta's
//! groups bucket (500 a minute: a 10-minute floor). A full sync that finds a group's
//! mark unchanged leaves that group's memberships in the store as they are instead of
//! re-reading them; the deep reconcile (every `deep-reconcile-days`, or asked for)
//! re-reads every list and so also repairs what changed in the store by hand.

use super::mode::Chosen;
use super::{Call, Mode};
use crate::okta::OktaGroup;
use crate::state::{ConnectorState, GroupMark};
use crate::store::{self, Store, StoreError};
use std::collections::HashMap;

/// The marks a full sync may trust: Okta group id → (its mark, the lowercase name its
/// store group has). Empty for a deep reconcile and an incremental sync.
#[derive(Debug, Default)]
pub struct Marks(HashMap<String, (String, String)>);

impl Marks {
    /// The marks of `known` whose group the store still holds (a group deleted or
    /// renamed by hand is re-read), when the chosen sync is a full one that is not deep.
    pub fn usable(
        call: &Call,
        chosen: &Chosen,
        known: Option<&ConnectorState>,
        store: &mut impl Store,
    ) -> Result<Marks, StoreError> {
        let trusted = chosen.mode == Mode::Full && !chosen.deep;
        let Some(state) = known.filter(|s| trusted && !s.group_marks.is_empty()) else {
            return Ok(Marks::default());
        };
        let held: HashMap<String, String> = store::groups(store, &call.ctx.directory)?
            .into_iter()
            .filter_map(|g| Some((g.okta_id?, g.name.to_lowercase())))
            .collect();
        let marks = state.group_marks.iter().filter_map(|m| {
            let name = held.get(&m.okta_id)?;
            let value = (m.last_membership_updated.clone(), name.clone());
            Some((m.okta_id.clone(), value))
        });
        Ok(Marks(marks.collect()))
    }

    /// Whether `g`'s members need not be read: Okta reports no membership change since
    /// they were last read, the store holds the group under the name it maps to, and
    /// the group is not a required one (who is synced at all depends on those lists).
    pub fn unchanged(&self, g: &OktaGroup, call: &Call) -> bool {
        let rules = &call.settings.rules;
        let Some((mark, name)) = self.0.get(&g.id) else {
            return false;
        };
        g.last_membership_updated.as_deref() == Some(mark.as_str())
            && rules.group_name(g.profile.name.trim()).to_lowercase() == *name
            && !rules.is_required(&g.profile.name)
    }
}

/// The mark of a group whose members this sync knows (read, or unchanged), if Okta
/// gave one.
pub fn mark_of(g: &OktaGroup) -> Option<GroupMark> {
    Some(GroupMark {
        okta_id: g.id.clone(),
        last_membership_updated: g.last_membership_updated.clone()?,
    })
}

/// The marks to keep after a sync: a full sync's are exactly the groups whose members
/// it knows; an incremental sync's replace the known marks of the groups it re-read.
/// `complete` is false when the plan created users whose memberships of unread groups
/// are unknown: no mark is kept, so that the next full sync reads every list.
pub fn next(
    known: Option<&ConnectorState>,
    full: bool,
    seen: Vec<GroupMark>,
    complete: bool,
) -> Vec<GroupMark> {
    if !complete {
        return Vec::new();
    }
    if full {
        return seen;
    }
    let mut by_id: HashMap<String, String> = known
        .map(|s| s.group_marks.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m.okta_id, m.last_membership_updated))
        .collect();
    by_id.extend(
        seen.into_iter()
            .map(|m| (m.okta_id, m.last_membership_updated)),
    );
    let mut marks: Vec<GroupMark> = by_id
        .into_iter()
        .map(|(okta_id, last_membership_updated)| GroupMark {
            okta_id,
            last_membership_updated,
        })
        .collect();
    marks.sort_by(|a, b| a.okta_id.cmp(&b.okta_id));
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(id: &str, at: &str) -> GroupMark {
        GroupMark {
            okta_id: id.into(),
            last_membership_updated: at.into(),
        }
    }

    #[test]
    fn a_full_sync_keeps_what_it_saw_an_incremental_one_merges() {
        let known = ConnectorState {
            group_marks: vec![mark("00g1", "a"), mark("00g2", "b")],
            ..Default::default()
        };
        let seen = vec![mark("00g2", "c"), mark("00g3", "d")];
        assert_eq!(next(Some(&known), true, seen.clone(), true), seen);
        assert_eq!(
            next(Some(&known), false, seen.clone(), true),
            vec![mark("00g1", "a"), mark("00g2", "c"), mark("00g3", "d")]
        );
        assert_eq!(next(Some(&known), true, seen, false), vec![]);
    }
}
