//! Export and import of connector settings as JSON (the CLI's `export`/`import` and the
//! REST API's `/export` and `/import`). An export holds each connector's
//! [`ConnectorSettings`] as the REST API shows them, with its secret (the API token or
//! the service app's private key) only when asked (otherwise `********`). An import reads each connector as a [`ConnectorPatch`] and
//! creates or updates connectors, after checking all of them first: a refused import
//! changes nothing.

use crate::harness::{ErrorKind, Harness, HarnessError};
use crate::model::{ConnectorPatch, ConnectorSettings, Credential, REDACTED, stored};
use crate::product::db::secrets;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format version written (4: connectors name their `credential`; a service app's
/// secret is `privateKey`).
pub const EXPORT_VERSION: u32 = 4;

/// One connector of an export.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedConnector {
    /// Its settings.
    #[serde(flatten)]
    pub settings: ConnectorSettings,
    /// The API token, or `********` (an API-token credential).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token: Option<String>,
    /// The private key (PEM), or `********` (a service app).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
}

/// An export document: written with [`ExportedConnector`]s, read with patches.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Export<C> {
    /// Format version.
    pub usersync_export: u32,
    /// The product it was exported from.
    #[serde(default)]
    pub product: String,
    /// When, ISO 8601 UTC.
    #[serde(default)]
    pub exported_at: String,
    /// Whether the secrets (API tokens, private keys) are included.
    #[serde(default)]
    pub secrets_included: bool,
    /// The connectors.
    pub connectors: Vec<C>,
}

/// Every connector's settings; their secrets only if `include_secrets`.
pub fn export(
    h: &Harness,
    include_secrets: bool,
) -> Result<Export<ExportedConnector>, HarnessError> {
    let mut list = Vec::new();
    for v in h.connectors()? {
        let secret = if include_secrets {
            secrets::read(&h.db().lock(), h.db().key(), v.id, &v.settings)?
        } else {
            REDACTED.to_string()
        };
        let (api_token, private_key) = match v.settings.credential {
            Credential::ApiToken => (Some(secret), None),
            Credential::OauthServiceApp { .. } => (None, Some(secret)),
        };
        list.push(ExportedConnector {
            settings: v.settings,
            api_token,
            private_key,
        });
    }
    Ok(Export {
        usersync_export: EXPORT_VERSION,
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

impl ImportError {
    /// Its kind, for the surfaces.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ImportError::Invalid { .. } => ErrorKind::Invalid,
            ImportError::Connector { source, .. } => source.kind(),
        }
    }

    fn invalid(message: String, field: impl Into<Option<String>>) -> Self {
        ImportError::Invalid {
            message,
            field: field.into(),
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportSummary {
    /// Connectors created.
    pub created: Vec<String>,
    /// Connectors updated.
    pub updated: Vec<String>,
}

fn not_an_export(e: serde_path_to_error::Error<serde_json::Error>) -> ImportError {
    let path = e.path().to_string();
    ImportError::invalid(
        format!(
            "the import is not a usersync export: {}",
            crate::model::shorten_quotes(&e.inner().to_string())
        ),
        (path != ".").then_some(path),
    )
}

/// Parse an export document (or a bare JSON array of connectors). Exports of format
/// version 1 (WIT-shaped sections) and 2 (0.1.0's users settings) are read too.
pub fn parse(text: &str) -> Result<Export<ConnectorPatch>, ImportError> {
    let mut value: Value = serde_json::from_str(text)
        .map_err(|e| ImportError::invalid(format!("the import is not valid JSON: {e}"), None))?;
    if value.is_array() {
        value = serde_json::json!({"usersyncExport": EXPORT_VERSION, "connectors": value});
    }
    if !value.is_object() {
        return Err(ImportError::invalid(
            "the import must be an export document (a JSON object) or a list of connectors".into(),
            None,
        ));
    }
    match value.get("usersyncExport").and_then(Value::as_u64) {
        None | Some(1) => {
            if let Some(list) = value.get_mut("connectors").and_then(Value::as_array_mut) {
                for c in list.iter_mut() {
                    *c = stored::upgrade_exported_connector(c.take());
                }
            }
            value["usersyncExport"] = EXPORT_VERSION.into();
        }
        Some(2) => {
            if let Some(list) = value.get_mut("connectors").and_then(Value::as_array_mut) {
                for c in list.iter_mut() {
                    *c = stored::upgrade_exported_connector_v2(c.take());
                }
            }
            value["usersyncExport"] = EXPORT_VERSION.into();
        }
        Some(3 | 4) => {}
        Some(n) => {
            return Err(ImportError::invalid(
                format!("the import has format version {n}; this version reads versions 1 to 4"),
                Some("usersyncExport".into()),
            ));
        }
    }
    serde_path_to_error::deserialize(value).map_err(not_an_export)
}

/// Create or update the connectors of `doc`. Every connector is checked first (a name,
/// no name twice, a token for new connectors, settings the plugin accepts); if one is
/// refused, nothing is changed.
pub fn import(h: &Harness, doc: &Export<ConnectorPatch>) -> Result<ImportSummary, ImportError> {
    let mut plan = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, patch) in doc.connectors.iter().enumerate() {
        let Some(name) = patch.name() else {
            return Err(ImportError::invalid(
                format!("connector #{} of the import has no name", i + 1),
                format!("connectors[{i}].name"),
            ));
        };
        if !seen.insert(name.to_lowercase()) {
            return Err(ImportError::invalid(
                format!("the import holds connector `{name}` twice"),
                format!("connectors[{i}].name"),
            ));
        }
        let refused = |source| ImportError::Connector {
            name: name.into(),
            source,
        };
        let exists = match h.connector(name) {
            Ok(_) => true,
            Err(HarnessError::UnknownConnector(_)) => false,
            Err(source) => return Err(refused(source)),
        };
        let credential = patch.credential.clone().unwrap_or(Credential::ApiToken);
        if !exists && !matches!(patch.secret_for(&credential), Ok(Some(_))) {
            let what = credential.secret_name();
            let key = match credential {
                Credential::ApiToken => "apiToken",
                Credential::OauthServiceApp { .. } => "privateKey",
            };
            return Err(ImportError::invalid(
                format!(
                    "connector `{name}` does not exist yet and its {what} is redacted in the import; export with secrets included or create the connector first"
                ),
                format!("connectors[{i}].{key}"),
            ));
        }
        h.check(exists.then_some(name), patch).map_err(refused)?;
        plan.push((name.to_string(), exists, patch));
    }
    let mut summary = ImportSummary::default();
    for (name, exists, patch) in plan {
        let refused = |source| ImportError::Connector {
            name: name.clone(),
            source,
        };
        if exists {
            let v = h.update_connector(&name, patch).map_err(refused)?;
            summary.updated.push(v.settings.name);
        } else {
            let v = h.create_connector(patch).map_err(refused)?;
            summary.created.push(v.settings.name);
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::{ImportError, parse};

    #[test]
    fn an_import_that_is_neither_a_document_nor_a_list_is_refused_not_a_panic() {
        for text in ["\"AAA\"", "5", "null", "true"] {
            match parse(text) {
                Err(ImportError::Invalid { message, field }) => {
                    assert_eq!(
                        (message.as_str(), field),
                        (
                            "the import must be an export document (a JSON object) or a list of connectors",
                            None
                        ),
                        "{text}"
                    );
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
