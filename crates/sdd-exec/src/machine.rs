//! How busy the machine was with work that is not ours while something was measured: CPU time
//! and disk writes of the whole machine (`/proc/stat`, `/proc/diskstats`) minus those of this
//! process and everything it started (the load generator runs in-process; the service under
//! the supervisor is a descendant). A latency measured while another build ate the cores or
//! flushed gigabytes to disk says little about the service, and the verdict must say so.
//!
//! Linux only: elsewhere (or without `/proc`) `Usage::sample` is `None`, and callers say that
//! interference was not measured.

/// Cumulative counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// CPU ticks of the whole machine: busy (user, nice, system, irq, softirq, steal) and all.
    pub machine_busy: u64,
    pub machine_total: u64,
    /// CPU ticks (user + system) of this process and its live descendants.
    pub ours_busy: u64,
    /// Bytes written to block devices by the machine, and by this process tree.
    pub machine_written: u64,
    pub ours_written: u64,
}

/// Work that was not ours between two samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interference {
    /// Share of the machine's CPU capacity used by other processes, 0–1.
    pub cpu_share: f64,
    /// Bytes other processes (and the kernel's writeback of their data) wrote to disk.
    pub disk_written: u64,
    pub seconds: f64,
}

impl Usage {
    /// The counters now, or `None` where `/proc` cannot tell.
    pub fn sample() -> Option<Usage> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let (machine_busy, machine_total) = parse_cpu_line(stat.lines().next()?)?;
        let machine_written = std::fs::read_to_string("/proc/diskstats")
            .map(|text| sectors_written(&text) * 512)
            .unwrap_or(0);
        let (ours_busy, ours_written) = tree_usage(std::process::id() as i32);
        Some(Usage {
            machine_busy,
            machine_total,
            ours_busy,
            machine_written,
            ours_written,
        })
    }

    /// What others used from `self` to `later`, over `seconds`.
    pub fn others_until(&self, later: &Usage, seconds: f64) -> Interference {
        let total = later.machine_total.saturating_sub(self.machine_total);
        let busy = later.machine_busy.saturating_sub(self.machine_busy);
        let ours = later.ours_busy.saturating_sub(self.ours_busy);
        let cpu_share = if total == 0 {
            0.0
        } else {
            busy.saturating_sub(ours) as f64 / total as f64
        };
        let written = later.machine_written.saturating_sub(self.machine_written);
        let ours_written = later.ours_written.saturating_sub(self.ours_written);
        Interference {
            cpu_share: cpu_share.clamp(0.0, 1.0),
            disk_written: written.saturating_sub(ours_written),
            seconds,
        }
    }
}

/// `cpu  user nice system idle iowait irq softirq steal …` → (busy, total) ticks.
fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields.take(8).filter_map(|f| f.parse().ok()).collect();
    let [user, nice, system, idle, iowait, irq, softirq, steal] = values[..] else {
        return None;
    };
    let busy = user + nice + system + irq + softirq + steal;
    Some((busy, busy + idle + iowait))
}

/// Sectors written to whole disks (partitions and device-mapper or loop devices would count
/// the same bytes twice; `vd*`, `sd*`, `nvme*n*`, `xvd*`, `hd*`, `mmcblk*` without a partition
/// suffix are the disks).
fn sectors_written(diskstats: &str) -> u64 {
    diskstats
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let name = *fields.get(2)?;
            is_whole_disk(name)
                .then(|| fields.get(9)?.parse::<u64>().ok())
                .flatten()
        })
        .sum()
}

fn is_whole_disk(name: &str) -> bool {
    let simple = ["vd", "sd", "xvd", "hd"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase()));
    let nvme = name.strip_prefix("nvme").is_some_and(|rest| {
        rest.split_once('n')
            .is_some_and(|(ctrl, ns)| !ctrl.is_empty() && !ns.contains('p'))
    });
    let mmc = name.starts_with("mmcblk") && !name.contains('p');
    simple || nvme || mmc
}

/// CPU ticks and bytes written of `root` and its live descendants (found as the supervisor
/// finds what to stop).
fn tree_usage(root: i32) -> (u64, u64) {
    let pids = std::iter::once(root).chain(
        crate::supervisor::descendants(nix::unistd::Pid::from_raw(root))
            .into_iter()
            .map(|pid| pid.as_raw()),
    );
    let mut busy = 0;
    let mut written = 0;
    for pid in pids {
        let Some((_, ticks)) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| parse_process_stat(&stat))
        else {
            continue;
        };
        busy += ticks;
        written += std::fs::read_to_string(format!("/proc/{pid}/io"))
            .ok()
            .and_then(|io| {
                io.lines()
                    .find_map(|l| l.strip_prefix("write_bytes:"))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
            .unwrap_or(0);
    }
    (busy, written)
}

/// `pid (comm) state ppid … utime stime …` → (ppid, utime + stime). The command name may hold
/// spaces and parentheses, so fields are counted from its last `)`.
fn parse_process_stat(stat: &str) -> Option<(i32, u64)> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state(0) ppid(1) … utime(11) stime(12).
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lines_and_process_stats_parse() {
        assert_eq!(
            parse_cpu_line("cpu  100 5 50 800 20 3 2 10 0 0"),
            Some((170, 990))
        );
        assert_eq!(parse_cpu_line("cpu0 1 2 3 4 5 6 7 8"), None);
        assert_eq!(parse_cpu_line("cpu 1 2"), None);
        let stat = "4242 (tokio worker) (x)) S 17 4242 4242 0 -1 4194560 1 0 0 0 30 12 0 0 20 0";
        assert_eq!(parse_process_stat(stat), Some((17, 42)));
    }

    #[test]
    fn only_whole_disks_count() {
        let diskstats = "\
 253       0 vda 1 0 2 0 3 0 100 0 0 0 0
 253       1 vda1 1 0 2 0 3 0 90 0 0 0 0
   7       0 loop0 1 0 2 0 3 0 1000 0 0 0 0
 259       0 nvme0n1 1 0 2 0 3 0 7 0 0 0 0
 259       1 nvme0n1p1 1 0 2 0 3 0 7 0 0 0 0
 179       0 mmcblk0 1 0 2 0 3 0 1 0 0 0 0
 179       1 mmcblk0p1 1 0 2 0 3 0 1 0 0 0 0
 253       2 dm-0 1 0 2 0 3 0 500 0 0 0 0";
        assert_eq!(sectors_written(diskstats), 108);
    }

    #[test]
    fn others_are_the_machine_minus_our_tree() {
        let before = Usage::default();
        let after = Usage {
            machine_busy: 150,
            machine_total: 200,
            ours_busy: 50,
            machine_written: 10_000,
            ours_written: 4_000,
        };
        let i = before.others_until(&after, 1.0);
        assert_eq!(i.cpu_share, 0.5);
        assert_eq!(i.disk_written, 6_000);
        // Counters that went backwards (a process of ours exited) never give a negative share.
        let fewer = Usage {
            ours_busy: 500,
            ..after
        };
        assert_eq!(before.others_until(&fewer, 1.0).cpu_share, 0.0);
    }

    #[test]
    fn a_sample_here_sees_this_process() {
        let Some(now) = Usage::sample() else {
            return; // No /proc: nothing to check.
        };
        assert!(now.machine_total >= now.machine_busy);
        // Burn a little CPU, then our own ticks must not count as others'.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(200) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let later = Usage::sample().unwrap();
        assert!(later.ours_busy > now.ours_busy, "{now:?} {later:?}");
    }

    /// A busy process that is not ours (orphaned, so re-parented away from this process) shows
    /// as others' CPU: the planted interference the verifier discounts.
    #[test]
    fn a_busy_process_outside_our_tree_is_others_work() {
        let Some(before) = Usage::sample() else {
            return;
        };
        let status = std::process::Command::new("sh")
            .args(["-c", "(timeout 1.5 sh -c 'while :; do :; done' &)"])
            .status()
            .unwrap();
        assert!(status.success());
        let started = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(1200));
        let after = Usage::sample().unwrap();
        let others = before.others_until(&after, started.elapsed().as_secs_f64());
        let cores = std::fs::read_to_string("/proc/stat")
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
            .count()
            .max(1);
        // One core busy of `cores`; noise only adds to it.
        assert!(
            others.cpu_share * cores as f64 >= 0.5,
            "{others:?} on {cores} cores"
        );
    }
}
