//! The one service a server instance drives: started by `start_service`, read by
//! `service_status` / `service_logs` / `check_scenarios`, stopped by `stop_service`. When the
//! server goes away the service goes with it (its supervisor sees the pipe close).

use sdd_exec::service::Service;

#[derive(Default)]
pub(crate) struct ServiceSlot {
    /// The service last started, running or exited; `None` before the first start.
    pub current: Option<Service>,
}
