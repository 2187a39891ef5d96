//! A preview: a few Okta users and groups through a connector's settings, to check a
//! mapping before the first sync. Reads one page of each; writes nothing.

use crate::config::ConnectorConfig;
use crate::mapping;
use crate::okta::{OktaClient, OktaGroup, OktaUser, Transport};
use crate::rules::Rules;
use crate::sync::{Context, SyncError, begin};

/// One Okta user as the settings would map it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPreview {
    /// The Okta login.
    pub okta_login: String,
    /// The username it would get (none: skipped).
    pub username: Option<String>,
    /// The display name it would get.
    pub display_name: String,
    /// The email it would get.
    pub email: String,
    /// Why it would be skipped, or what is odd about it.
    pub note: Option<String>,
}

/// One Okta group as the settings would filter and name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupPreview {
    /// The Okta group name.
    pub okta_name: String,
    /// The product group name (none: filtered out).
    pub name: Option<String>,
    /// Why it is filtered out.
    pub note: Option<String>,
}

/// Sample users and groups through the mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preview {
    /// Users.
    pub users: Vec<UserPreview>,
    /// Groups.
    pub groups: Vec<GroupPreview>,
}

/// Most items of each kind a preview reads (one Okta page).
pub const MAX_PREVIEW: u32 = 200;

/// Map up to `limit` Okta users and groups (the first page of each) through `cfg`.
pub fn preview<T: Transport>(
    cfg: &ConnectorConfig,
    ctx: &Context,
    limit: u32,
    transport: T,
) -> Result<Preview, SyncError> {
    let call = begin(cfg, ctx)?;
    let mut client = OktaClient::new(transport, &call.settings.config.okta_domain)
        .with_rate_share(call.settings.config.rate_limit_percent);
    let limit = limit.clamp(1, MAX_PREVIEW);
    let origin = client.origin().to_string();
    let (users, _) = client.page::<OktaUser>(&format!("{origin}/api/v1/users?limit={limit}"))?;
    let (groups, _) = client.page::<OktaGroup>(&format!("{origin}/api/v1/groups?limit={limit}"))?;
    let rules = &call.settings.rules;
    let attributes = &call.settings.config.user_attributes;
    Ok(Preview {
        users: users
            .iter()
            .map(|u| user_preview(u, rules, attributes))
            .collect(),
        groups: groups.iter().map(|g| group_preview(g, rules)).collect(),
    })
}

fn user_preview(u: &OktaUser, rules: &Rules, attributes: &[String]) -> UserPreview {
    let okta_login = u.attr("login").unwrap_or_default();
    let required = (!rules.groups.required.is_empty())
        .then(|| "membership of the required groups is not checked by a preview".to_string());
    match mapping::map_user_with(u, rules, attributes) {
        Ok(d) => UserPreview {
            okta_login,
            username: Some(d.username),
            display_name: d.display_name,
            email: d.email,
            note: if d.creatable {
                required
            } else {
                Some(format!("status {}: not created", u.status))
            },
        },
        Err(why) => UserPreview {
            okta_login,
            username: None,
            display_name: String::new(),
            email: String::new(),
            note: Some(why),
        },
    }
}

fn group_preview(g: &OktaGroup, rules: &Rules) -> GroupPreview {
    let okta_name = g.profile.name.clone();
    if rules.group_synced(&g.group_type, &okta_name) {
        GroupPreview {
            name: Some(rules.group_name(okta_name.trim())),
            okta_name,
            note: None,
        }
    } else {
        GroupPreview {
            okta_name,
            name: None,
            note: Some(format!(
                "type {} or name filtered out by the group settings",
                g.group_type
            )),
        }
    }
}
