//! `Authorization: SSWS <token>` and what a token may see.

use std::collections::HashSet;

use crate::org::{GroupType, OktaGroup, Org};
use crate::reply::Reply;
use crate::server::SimConfig;

/// Who is calling.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A full-org token.
    Full,
    /// A group-scoped admin's token: these target group ids.
    Scoped(HashSet<String>),
}

/// Checks the Authorization header: `SSWS <token>` or `SSWS<token>`.
/// Unknown token → 401 E0000011; missing header or another scheme → 403
/// E0000005. (`Bearer` and `DPoP` access tokens are checked by
/// [`crate::oauth::resource`] before this is reached.)
pub fn authenticate(config: &SimConfig, header: Option<&str>) -> Result<Principal, Reply> {
    let Some(h) = header.map(str::trim) else {
        return Err(Reply::invalid_session());
    };
    let scheme = h.get(..4).unwrap_or_default();
    if scheme.eq_ignore_ascii_case("SSWS") {
        let token = h[4..].trim();
        if token.is_empty() {
            return Err(Reply::invalid_token());
        }
        if config.tokens.iter().any(|t| t == token) {
            return Ok(Principal::Full);
        }
        if let Some(s) = config.scoped_tokens.iter().find(|s| s.token == token) {
            return Ok(Principal::Scoped(s.target_groups.iter().cloned().collect()));
        }
        return Err(Reply::invalid_token());
    }
    Err(Reply::invalid_session())
}

impl Principal {
    /// Whether the group is visible: every group for a full token; target
    /// groups except `Everyone` for a scoped one.
    pub fn sees_group(&self, g: &OktaGroup) -> bool {
        match self {
            Principal::Full => true,
            Principal::Scoped(targets) => {
                g.group_type != GroupType::BuiltIn && targets.contains(&g.id)
            }
        }
    }

    /// The visible user ids: `None` = all; for a scoped token the members of
    /// its visible target groups.
    pub fn visible_users<'o>(&self, org: &'o Org) -> Option<HashSet<&'o str>> {
        match self {
            Principal::Full => None,
            Principal::Scoped(_) => Some(
                org.groups
                    .iter()
                    .filter(|g| self.sees_group(g))
                    .flat_map(|g| g.members.iter().map(String::as_str))
                    .collect(),
            ),
        }
    }

    /// Whether one user is visible.
    pub fn sees_user(&self, org: &Org, user_id: &str) -> bool {
        match self {
            Principal::Full => true,
            Principal::Scoped(_) => org
                .groups
                .iter()
                .any(|g| self.sees_group(g) && g.members.iter().any(|m| m == user_id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ScopedToken;

    #[test]
    fn schemes() {
        let config = SimConfig {
            scoped_tokens: vec![ScopedToken {
                token: "scoped".into(),
                target_groups: vec!["00g1".into()],
            }],
            ..SimConfig::default()
        };
        let status = |h: Option<&str>| match authenticate(&config, h) {
            Ok(Principal::Full) => 200,
            Ok(Principal::Scoped(_)) => 201,
            Err(r) => r.status,
        };
        assert_eq!(status(Some("SSWS test-token")), 200);
        assert_eq!(status(Some("SSWStest-token")), 200);
        assert_eq!(status(Some("ssws  test-token ")), 200);
        assert_eq!(status(Some("SSWS scoped")), 201);
        assert_eq!(status(Some("SSWS wrong")), 401);
        assert_eq!(status(Some("SSWS")), 401);
        assert_eq!(status(Some("test-token")), 403);
        assert_eq!(status(Some("Basic dXNlcjpwYXNz")), 403);
        assert_eq!(status(None), 403);
    }
}
