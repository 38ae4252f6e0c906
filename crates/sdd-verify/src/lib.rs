//! Verification: whether the service does what the spec says, measured.
//!
//! `sdd-verify` runs a test profile end to end (`testrun`: supervised command, results parsed,
//! traced to scenarios, recorded), runs the spec's executable examples against the service
//! (`examples`), verifies constraints under real load and with security probes
//! (`constraints`, `probes`, `leaks`), checks that what the load wrote is still there after it
//! (`consistency`), and checks that data survives a restart (`reliability`); `export` turns
//! the load runs of constraints into plans and thresholds for another generator (k6);
//! `record` translates their verdicts into the history's statuses. It builds
//! on `sdd-exec` (processes), `sdd-results` (parsers, traceability), `sdd-history` (the record),
//! `sdd-http` (requests, tokens, allowed hosts) and `sdd-load` (load generation); it knows
//! nothing of MCP.

pub mod auth;
pub mod consistency;
pub mod constraints;
pub mod examples;
pub mod export;
pub mod inventory;
pub mod leaks;
pub mod ownership;
pub mod pagination;
pub mod probes;
pub mod record;
pub mod reliability;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing;
pub mod testrun;

/// The hosts `sdd.yaml`'s `targets.allowed_hosts` lets SDD's traffic go to, beside loopback.
pub fn allowed_hosts(file: &sdd_spec::project::ProjectFile) -> sdd_http::AllowedHosts {
    sdd_http::AllowedHosts::new(file.targets.allowed_hosts.iter().cloned())
}
