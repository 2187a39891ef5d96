//! What a run is: its kind, who started it, its status and why it failed, as types
//! (stored as their lower-case names, shown the same way everywhere).

use serde::{Deserialize, Serialize};

/// Declares a closed set of names stored in a TEXT column and shown in JSON, each the
/// kebab-case of its variant.
macro_rules! named {
    ($(#[$meta:meta])* pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize,
            strum::EnumString, strum::IntoStaticStr, strum::Display, strum::VariantArray,
        )]
        #[serde(rename_all = "kebab-case")]
        #[strum(serialize_all = "kebab-case")]
        pub enum $name { $( $(#[$vmeta])* $variant ),* }

        impl $name {
            /// The stored and shown name.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let s = v.as_str()?;
                s.parse().map_err(|_| {
                    rusqlite::types::FromSqlError::Other(
                        format!("`{s}` is not a {}", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}

named! {
    /// What a run synced.
    pub enum RunKind {
        /// Everything.
        Full,
        /// What changed since the last sync.
        Incremental,
        /// What Okta's System Log says changed since the stored cursor.
        Feed,
        /// One user, at login.
        User,
    }
}

named! {
    /// Who started a run.
    pub enum Trigger {
        /// An admin, from the CLI or the admin page.
        Manual,
        /// The scheduler.
        Schedule,
        /// A user's login.
        Login,
        /// The REST API.
        Api,
    }
}

named! {
    /// Where a pending plan is: a run the mass-deactivation guard refused, kept with its
    /// changes until an admin approves or rejects it, or it expires.
    pub enum PlanStatus {
        /// Waiting for an admin.
        Pending,
        /// Approved, re-checked against Okta and applied (by the plan's `next_run`).
        Applied,
        /// Approved, but Okta or the store no longer gave that plan: nothing was applied
        /// and the new plan is pending in its stead (`next_run`).
        Changed,
        /// Rejected by an admin.
        Rejected,
        /// Not decided in time (the approvals' expiry setting).
        Expired,
        /// A later refused sync of the connector (`next_run`) is pending instead.
        Superseded,
    }
}

impl Default for Trigger {
    /// An admin asked.
    fn default() -> Self {
        Trigger::Manual
    }
}

named! {
    /// Where a run is.
    pub enum RunStatus {
        /// Started, not finished.
        Running,
        /// Finished; its report is stored.
        Succeeded,
        /// Finished without applying anything; its failure is stored.
        Failed,
    }
}

named! {
    /// Why a run failed (nothing of it was applied).
    pub enum FailureKind {
        /// The mass-deactivation guard refused; a forced sync proceeds.
        Guard,
        /// Okta failed or refused a request.
        Okta,
        /// The user store (the database) failed.
        Store,
        /// A security rule stopped the sync.
        Security,
        /// The settings or the stored token are not valid.
        InvalidSettings,
        /// The process stopped (or the sync was dropped) before the run finished.
        Interrupted,
        /// The plugin crashed, timed out or ran out of memory.
        Plugin,
    }
}

/// Why a run failed: its kind and the sentence shown to admins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The kind.
    pub kind: FailureKind,
    /// One sentence.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn names_round_trip_and_are_kebab_case() {
        for k in FailureKind::VARIANTS {
            assert_eq!(k.as_str().parse::<FailureKind>().unwrap(), *k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(FailureKind::InvalidSettings.as_str(), "invalid-settings");
        assert_eq!(Trigger::Schedule.to_string(), "schedule");
        assert!("Full".parse::<RunKind>().is_err());
    }
}
