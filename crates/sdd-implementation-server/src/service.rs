//! The one service a server instance drives: started by `start_service`, read by
//! `service_status` / `service_logs` / `check_scenarios`, stopped by `stop_service`. When the
//! server goes away the service goes with it (its supervisor sees the pipe close).

use sdd_exec::service::{Service, ServiceLog, ServiceStatus, StopReport};

#[derive(Default)]
pub(crate) struct ServiceSlot {
    /// The service last started, running or exited; `None` before the first start and after
    /// a stop.
    pub current: Option<Service>,
    /// The service `stop_service` stopped last: how it ended, and its output, which stay
    /// readable until the next start.
    pub stopped: Option<StoppedService>,
}

pub(crate) struct StoppedService {
    pub status: ServiceStatus,
    pub report: StopReport,
    pub log: ServiceLog,
}
