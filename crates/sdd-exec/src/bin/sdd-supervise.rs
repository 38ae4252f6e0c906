//! `sdd-supervise <signal> <grace-ms> <command>`: the standalone supervisor (see
//! `sdd_exec::supervisor`). Server binaries embed the same code behind a mode flag.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    sdd_exec::supervisor::main(&args)
}
