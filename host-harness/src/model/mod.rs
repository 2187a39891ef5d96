//! The host's model of a connector: its settings and their patch, its runs, their
//! reports and failures. Every surface (CLI, REST API, admin page, export/import) and the
//! database use these types; the generated WIT types meet them in [`wit`] only, and the
//! database stores them in versioned documents ([`stored`]).

pub mod console;
pub mod error;
pub mod idp;
pub mod login;
pub mod report;
pub mod run;
pub mod settings;
pub mod stored;
pub mod wit;

pub use error::{FieldError, OktaError, OktaErrorKind, StoreError, SyncError, shorten_quotes};
pub use report::{
    ChangeAction, ChangeEntry, ConnectionInfo, GroupPreview, GuardRefusal, MappingPreview,
    SyncCounts, SyncMode, SyncReport, UserPreview, UserSyncReport,
};
pub use run::{Failure, FailureKind, PlanStatus, RunKind, RunStatus, Trigger};
pub use settings::{
    AttributeMapping, ConnectorPatch, ConnectorSettings, Credential, FieldMapping,
    FieldMappingPatch, GroupPatch, GroupSettings, InactivityPolicy, LifecyclePatch,
    LifecycleSettings, MigrateExisting, MissingUsers, NoMatch, Patch, REDACTED, TokenText,
    UnknownAtLogin, UserPatch, UserSettings,
};
