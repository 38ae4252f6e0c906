//! What the incident analysis looks at beside the events: changes (git commits, recorded runs,
//! versions in metric labels) and metric series from the monitoring server's source.
//!
//! Each gatherer says what it could not reach instead of failing the analysis: no git
//! repository, no history yet, a Prometheus that does not answer.

use std::path::Path;

use sdd_monitoring::selector::Selector;
use sdd_monitoring::source::Source;

use crate::event::{Nanos, NANOS_PER_SECOND};
use crate::incident::{Change, MetricSeries};

/// Files whose change is a configuration change rather than code.
fn is_config(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "sdd.yaml"
        || name.ends_with(".env")
        || name.starts_with(".env")
        || name.ends_with(".toml") && !name.starts_with("Cargo")
        || name.ends_with(".ini")
        || name.ends_with(".conf")
        || path.starts_with("config/")
        || path.contains("/config/")
        || name.ends_with(".yaml") && (path.starts_with("deploy") || path.contains("k8s"))
}

/// Commits made in `[from, to]` in the project's git repository. Configuration changes are
/// told apart by the files they touch.
pub async fn git_changes(root: &Path, from: Nanos, to: Nanos) -> Result<Vec<Change>, String> {
    let since = format!("--since=@{}", from.div_euclid(NANOS_PER_SECOND));
    let until = format!("--until=@{}", to.div_euclid(NANOS_PER_SECOND) + 1);
    // Record separator before each commit, unit separators between its fields; then the
    // files it touched, one per line.
    let out = sdd_exec::git::git(
        root,
        &[
            "log",
            &since,
            &until,
            "--max-count=200",
            "--format=%x1e%H%x1f%ct%x1f%an%x1f%s",
            "--name-only",
            "--",
            ".",
        ],
    )
    .await
    .map_err(|e| {
        if e.contains("not a git repository") {
            "the project is not a git repository: no commits to look at".to_string()
        } else {
            e
        }
    })?;
    Ok(parse_git_log(&out))
}

fn parse_git_log(out: &str) -> Vec<Change> {
    let mut changes = Vec::new();
    for record in out.split('\u{1e}').filter(|r| !r.trim().is_empty()) {
        let mut lines = record.lines();
        let head = lines.next().unwrap_or_default();
        let fields: Vec<&str> = head.split('\u{1f}').collect();
        let [hash, time, author, subject] = fields[..] else {
            continue;
        };
        let Ok(seconds) = time.parse::<i64>() else {
            continue;
        };
        let files: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
        let config: Vec<&str> = files.iter().copied().filter(|f| is_config(f)).collect();
        let short = hash.get(..10).unwrap_or(hash);
        let (kind, description) = if config.is_empty() {
            (
                "commit",
                format!(
                    "commit {short} by {author}: {subject} ({} files)",
                    files.len()
                ),
            )
        } else {
            (
                "config",
                format!(
                    "commit {short} by {author} changed configuration ({}): {subject}",
                    config.join(", ")
                ),
            )
        };
        changes.push(Change {
            at: seconds.saturating_mul(NANOS_PER_SECOND),
            kind: kind.into(),
            description,
            source: "git log".into(),
        });
    }
    changes
}

/// Runs recorded in `.sdd/history.sqlite3` in `[from, to]`: what the team ran (a verify on a
/// new commit, a test run) before the onset.
pub fn history_changes(root: &Path, from: Nanos, to: Nanos) -> Result<Vec<Change>, String> {
    if !root.join(".sdd").join("history.sqlite3").exists() {
        return Ok(Vec::new());
    }
    let history = sdd_history::History::open(root).map_err(|e| e.to_string())?;
    let runs = history
        .runs(&sdd_history::HistoryQuery {
            limit: 500,
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
    Ok(runs
        .into_iter()
        .filter_map(|run| {
            let at = chrono::DateTime::parse_from_rfc3339(&run.started_at)
                .ok()?
                .timestamp_nanos_opt()?;
            (at >= from && at <= to).then(|| Change {
                at,
                kind: "run".into(),
                description: format!(
                    "{} run {} ({}){}: {}",
                    run.kind.as_str(),
                    run.id,
                    run.label,
                    run.commit
                        .as_deref()
                        .map(|c| format!(" on commit {}", c.get(..10).unwrap_or(c)))
                        .unwrap_or_default(),
                    if run.ok { "passed" } else { "failed" }
                ),
                source: ".sdd/history.sqlite3".into(),
            })
        })
        .collect())
}

/// The most metric names and series one analysis reads: an answer about a thousand series is
/// not read by anyone, and each is a query.
pub const MAX_METRIC_NAMES: usize = 60;
pub const MAX_SERIES: usize = 200;

/// Every metric's series over `[from, to]` at `step`, counters as per-second rates (resets
/// handled), histogram buckets left out (their `_count` and `_sum` stand for them). Returns
/// the series, the versions seen in labels named `version` (each one's first step), and notes.
pub async fn metric_series(
    source: &Source,
    from: Nanos,
    to: Nanos,
    step: Nanos,
) -> (Vec<MetricSeries>, Vec<Change>, Vec<String>) {
    let mut notes = Vec::new();
    let mut versions: Vec<Change> = Vec::new();
    let names = match source.metric_names().await {
        Ok(names) => names,
        Err(e) => {
            notes.push(format!(
                "metrics: {} did not answer: {e}",
                source.describe()
            ));
            return (Vec::new(), versions, notes);
        }
    };
    let mut chosen: Vec<_> = names
        .into_iter()
        .filter(|n| !n.name.ends_with("_bucket") && !n.name.ends_with("_created"))
        .collect();
    if chosen.len() > MAX_METRIC_NAMES {
        notes.push(format!(
            "metrics: {} names, the first {MAX_METRIC_NAMES} read (by name)",
            chosen.len()
        ));
        chosen.truncate(MAX_METRIC_NAMES);
    }
    let step_ms = (step / 1_000_000).max(1000);
    let (from_ms, to_ms) = (from / 1_000_000, to / 1_000_000);
    let mut out = Vec::new();
    for name in chosen {
        if out.len() >= MAX_SERIES {
            notes.push(format!(
                "metrics: more than {MAX_SERIES} series; the rest not read"
            ));
            break;
        }
        let selector = Selector::named(&name.name);
        let series = match source.steps(&selector, from_ms, to_ms, step_ms).await {
            Ok(s) => s,
            Err(e) => {
                notes.push(format!("metrics: {} not read: {e}", name.name));
                continue;
            }
        };
        let counter = name.kind == "counter"
            || name.name.ends_with("_total")
            || name.name.ends_with("_count")
            || name.name.ends_with("_sum");
        for (labels, points) in series {
            let text = format!(
                "{}{{{}}}",
                name.name,
                labels
                    .iter()
                    .filter(|(k, _)| k.as_str() != "__name__")
                    .map(|(k, v)| format!("{k}=\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            if let Some(version) = labels.get("version") {
                if let Some(&(t, _)) = points.first() {
                    if !versions
                        .iter()
                        .any(|c| c.description.ends_with(version.as_str()))
                    {
                        versions.push(Change {
                            at: t * 1_000_000,
                            kind: "version".into(),
                            description: format!("{} reports version {version}", name.name),
                            source: text.clone(),
                        });
                    }
                }
            }
            let points: Vec<(Nanos, f64)> = if counter {
                rates(&points)
            } else {
                points.iter().map(|&(t, v)| (t * 1_000_000, v)).collect()
            };
            let query = if counter {
                format!("rate({text}[{}s])", step_ms / 1000)
            } else {
                text.clone()
            };
            out.push(MetricSeries {
                series: text,
                query,
                points,
            });
            if out.len() >= MAX_SERIES {
                break;
            }
        }
    }
    (out, versions, notes)
}

/// Per-second rates between consecutive steps of a counter; a drop is a reset (the counter
/// started again from zero), as Prometheus' `rate` reads it.
fn rates(points: &[(i64, f64)]) -> Vec<(Nanos, f64)> {
    points
        .windows(2)
        .filter_map(|w| {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            let seconds = (t1 - t0) as f64 / 1000.0;
            if seconds <= 0.0 {
                return None;
            }
            let delta = if v1 >= v0 { v1 - v0 } else { v1 };
            Some((t1 * 1_000_000, delta / seconds))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_log_records_become_commits_and_config_changes() {
        let out = "\u{1e}abcdef0123456789\u{1f}1796000000\u{1f}Ann\u{1f}Raise the pool\n\nsdd.yaml\nsrc/a.rs\n\u{1e}0123456789abcdef\u{1f}1795999000\u{1f}Bo\u{1f}Fix typo\n\nREADME.md\n\u{1e}broken line\n";
        let changes = parse_git_log(out);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].kind, "config");
        assert!(
            changes[0].description.contains("sdd.yaml"),
            "{:?}",
            changes[0]
        );
        assert_eq!(changes[0].at, 1_796_000_000 * NANOS_PER_SECOND);
        assert_eq!(changes[1].kind, "commit");
        assert!(changes[1].description.contains("(1 files)"));
    }

    #[test]
    fn config_files_are_told_from_code() {
        let cases = [
            ("sdd.yaml", true),
            ("config/app.json", true),
            ("deploy/values.yaml", true),
            (".env.production", true),
            ("settings.toml", true),
            ("Cargo.toml", false),
            ("src/main.rs", false),
            ("specs/tasks.yaml", false),
        ];
        for (path, want) in cases {
            assert_eq!(is_config(path), want, "{path}");
        }
    }

    #[test]
    fn counter_rates_treat_a_drop_as_a_reset() {
        let r = rates(&[(0, 10.0), (1000, 20.0), (2000, 5.0), (2000, 9.0)]);
        assert_eq!(r, [(1_000_000_000, 10.0), (2_000_000_000, 5.0)]);
    }
}
