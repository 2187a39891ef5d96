//! Export and import of connector settings as JSON (the CLI's `export`/`import` and the
//! REST API's `/export` and `/import`). Exports hold the API token only when asked;
//! otherwise it is redacted as `********`. An import creates or updates connectors,
//! after checking all of them first: a refused import changes nothing.

use crate::bindings::wit::{
    ConnectorConfig, GroupSettings, LifecycleSettings, UnknownAtLogin, UserSettings,
};
use crate::db::connectors;
use crate::harness::{ConnectorInput, Harness, HarnessError};
use serde::{Deserialize, Serialize};

/// What a redacted token looks like.
pub const REDACTED: &str = "********";

/// A connector's settings in JSON (camelCase, as the REST API): every field optional, so
/// that a document may set only some of them (the rest keep their value, or the default).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectorSettings {
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Okta domain without protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub okta_domain: Option<String>,
    /// The API token, or `********` when redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token: Option<String>,
    /// Cron schedule (UTC) or a preset such as `every 15 minutes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Scheduled sync on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_enabled: Option<bool>,
    /// Sync Okta's built-in groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_built_in_groups: Option<bool>,
    /// Okta profile attributes copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_attributes: Option<Vec<String>>,
    /// Hours between full syncs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_sync_interval_hours: Option<u32>,
    /// Deactivate logins Okta does not know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny_unknown_at_login: Option<bool>,
    /// Group-member requests in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_concurrency: Option<u32>,
    /// User settings, as in the CLI's `--settings` file (absent or null: unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<UserSettings>,
    /// Group settings (absent or null: unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupSettings>,
    /// Lifecycle and guard settings (absent or null: unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<LifecycleSettings>,
}

impl ConnectorSettings {
    /// All settings of a stored connector, with `token` (or the redaction mark).
    pub fn from_config(c: &ConnectorConfig, token: Option<String>) -> Self {
        ConnectorSettings {
            name: Some(c.name.clone()),
            okta_domain: Some(c.okta_domain.clone()),
            api_token: Some(token.unwrap_or_else(|| REDACTED.to_string())),
            schedule: Some(c.schedule.clone()),
            schedule_enabled: Some(c.schedule_enabled),
            include_built_in_groups: Some(c.include_built_in_groups),
            user_attributes: Some(c.user_attributes.clone()),
            full_sync_interval_hours: Some(c.full_sync_interval_hours),
            deny_unknown_at_login: Some(c.unknown_at_login == UnknownAtLogin::Deny),
            member_concurrency: Some(c.member_concurrency),
            users: Some(c.users.clone()),
            groups: Some(c.groups.clone()),
            lifecycle: Some(c.lifecycle.clone()),
        }
    }

    /// The token, unless absent, empty or redacted.
    pub fn token(&self) -> Option<&str> {
        self.api_token
            .as_deref()
            .filter(|t| !t.trim().is_empty() && t.trim() != REDACTED)
    }

    /// Set the fields present here on `input`; a redacted or empty token keeps it unset
    /// (the stored token stays).
    pub fn apply(&self, input: &mut ConnectorInput) {
        if let Some(v) = &self.name {
            input.name = v.clone();
        }
        if let Some(v) = &self.okta_domain {
            input.okta_domain = v.clone();
        }
        if let Some(v) = &self.schedule {
            input.schedule = v.clone();
        }
        if let Some(v) = self.schedule_enabled {
            input.schedule_enabled = v;
        }
        if let Some(v) = self.include_built_in_groups {
            input.include_built_in_groups = v;
        }
        if let Some(v) = &self.user_attributes {
            input.user_attributes = v.clone();
        }
        if let Some(v) = self.full_sync_interval_hours {
            input.full_sync_interval_hours = v;
        }
        if let Some(v) = self.deny_unknown_at_login {
            input.deny_unknown_at_login = v;
        }
        if let Some(v) = self.member_concurrency {
            input.member_concurrency = v;
        }
        if let Some(v) = &self.users {
            input.users = Some(v.clone());
        }
        if let Some(v) = &self.groups {
            input.groups = Some(v.clone());
        }
        if let Some(v) = &self.lifecycle {
            input.lifecycle = Some(v.clone());
        }
        if let Some(t) = self.token() {
            input.api_token = Some(t.to_string());
        }
    }
}

/// An export document.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    /// Format version (1).
    #[serde(default = "one")]
    pub usersync_export: u32,
    /// The product it was exported from.
    #[serde(default)]
    pub product: String,
    /// When, ISO 8601 UTC.
    #[serde(default)]
    pub exported_at: String,
    /// Whether the API tokens are included.
    #[serde(default)]
    pub secrets_included: bool,
    /// The connectors.
    pub connectors: Vec<ConnectorSettings>,
}

fn one() -> u32 {
    1
}

/// Every connector's settings; the API tokens only if `include_secrets`.
pub fn export(h: &Harness, include_secrets: bool) -> Result<Export, HarnessError> {
    let mut list = Vec::new();
    for v in h.connectors()? {
        let token = if include_secrets {
            Some(connectors::token(&h.db().lock(), v.id)?)
        } else {
            None
        };
        list.push(ConnectorSettings::from_config(&v.config, token));
    }
    Ok(Export {
        usersync_export: 1,
        product: h.product().name.to_string(),
        exported_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        secrets_included: include_secrets,
        connectors: list,
    })
}

/// Why an import was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The document is not an export.
    #[error("{message}")]
    Invalid {
        /// One sentence.
        message: String,
        /// The JSON path of the bad part, if known.
        field: Option<String>,
    },
    /// One connector was refused.
    #[error("connector `{name}`: {source}")]
    Connector {
        /// Its name.
        name: String,
        /// Why.
        source: HarnessError,
    },
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportSummary {
    /// Connectors created.
    pub created: Vec<String>,
    /// Connectors updated.
    pub updated: Vec<String>,
}

/// Parse an export document (or a bare JSON array of connectors).
pub fn parse(text: &str) -> Result<Export, ImportError> {
    let invalid = |e: serde_path_to_error::Error<serde_json::Error>| {
        let path = e.path().to_string();
        ImportError::Invalid {
            message: format!("the import is not a usersync export: {}", e.inner()),
            field: (path != ".").then_some(path),
        }
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ImportError::Invalid {
            message: format!("the import is not valid JSON: {e}"),
            field: None,
        })?;
    if value.is_array() {
        let connectors = serde_path_to_error::deserialize(value).map_err(invalid)?;
        return Ok(Export {
            usersync_export: 1,
            product: String::new(),
            exported_at: String::new(),
            secrets_included: false,
            connectors,
        });
    }
    let export: Export = serde_path_to_error::deserialize(value).map_err(invalid)?;
    if export.usersync_export != 1 {
        return Err(ImportError::Invalid {
            message: format!(
                "the import has format version {}; this version reads version 1",
                export.usersync_export
            ),
            field: Some("usersyncExport".into()),
        });
    }
    Ok(export)
}

/// Create or update the connectors of `doc`. Every connector is checked first (a name,
/// no name twice, a token for new connectors, settings the plugin accepts); if one is
/// refused, nothing is changed.
pub fn import(h: &Harness, doc: &Export) -> Result<ImportSummary, ImportError> {
    let mut plan = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, s) in doc.connectors.iter().enumerate() {
        let name = s.name.as_deref().map(str::trim).unwrap_or_default();
        if name.is_empty() {
            return Err(ImportError::Invalid {
                message: format!("connector #{} of the import has no name", i + 1),
                field: Some(format!("connectors[{i}].name")),
            });
        }
        if !seen.insert(name.to_lowercase()) {
            return Err(ImportError::Invalid {
                message: format!("the import holds connector `{name}` twice"),
                field: Some(format!("connectors[{i}].name")),
            });
        }
        let existing = match h.connector(name) {
            Ok(v) => Some(v),
            Err(HarnessError::UnknownConnector(_)) => None,
            Err(source) => {
                return Err(ImportError::Connector {
                    name: name.into(),
                    source,
                });
            }
        };
        let mut input = existing
            .as_ref()
            .map(|v| ConnectorInput::from_config(&v.config))
            .unwrap_or_default();
        s.apply(&mut input);
        let token = match (s.token(), &existing) {
            (Some(t), _) => t.to_string(),
            (None, Some(v)) => {
                connectors::token(&h.db().lock(), v.id).map_err(|e| ImportError::Connector {
                    name: name.into(),
                    source: e.into(),
                })?
            }
            (None, None) => {
                return Err(ImportError::Invalid {
                    message: format!(
                        "connector `{name}` does not exist yet and its API token is redacted in the import; export with secrets included or create the connector first"
                    ),
                    field: Some(format!("connectors[{i}].apiToken")),
                });
            }
        };
        h.configure(&input, &token, existing.as_ref().map(|v| &v.config))
            .map_err(|source| ImportError::Connector {
                name: name.into(),
                source,
            })?;
        plan.push((name.to_string(), existing.is_some(), input));
    }
    let mut summary = ImportSummary::default();
    for (name, exists, input) in plan {
        let wrap = |source| ImportError::Connector {
            name: name.clone(),
            source,
        };
        if exists {
            let v = h.update_connector(&name, &input).map_err(wrap)?;
            summary.updated.push(v.config.name);
        } else {
            let v = h.create_connector(&input).map_err(wrap)?;
            summary.created.push(v.config.name);
        }
    }
    Ok(summary)
}
