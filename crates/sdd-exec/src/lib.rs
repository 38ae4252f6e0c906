//! Running the project's commands so that none outlives its owner.
//!
//! `sdd-exec` starts every command SDD runs — a test profile, the service under specification,
//! `git` — as `sh -c` in its own process group under a supervisor process that is a child
//! subreaper (`supervisor`, also the `sdd-supervise` binary), with a timeout that kills the
//! whole tree and output captured up to a cap (`process`). With the `service` feature it also
//! drives the service's lifecycle: readiness probe, bounded log, graceful stop (`service`), and
//! keeps its output on disk for the debugger (`capture`).
//! `git` reads the work-tree state every recorded run carries. `blocking` is how async code
//! runs heavy synchronous work without stalling the runtime's workers. `machine` says how busy
//! the machine was with other processes' work while something was measured.

#[cfg(feature = "service")]
pub mod capture;
pub mod git;
pub mod machine;
pub mod process;
#[cfg(feature = "service")]
pub mod service;
pub mod supervisor;
#[doc(hidden)]
pub mod testing;

pub use process::blocking;
