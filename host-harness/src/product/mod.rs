//! The Atlassian product the harness plays: its user directory store and its profiles.

pub mod db;
pub mod profile;
