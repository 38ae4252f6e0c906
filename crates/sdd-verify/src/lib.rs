//! Verification for SDD, without MCP types: running the project's commands safely, reading what
//! test runners report, mapping results to scenarios, and remembering every run.

pub mod auth;
pub mod constraints;
pub mod examples;
pub mod git;
pub mod history;
pub mod http;
pub mod probes;
pub mod process;
pub mod reliability;
pub mod results;
pub mod service;
pub mod supervisor;
#[doc(hidden)]
pub mod testing;
pub mod testrun;
pub mod trace;
