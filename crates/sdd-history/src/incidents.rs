//! Incidents in the run history: what broke, when, what the analysis found, how it was
//! resolved, and the learnings proposed from it. The debugger server records them
//! (`record_incident`), turns them into proposals (`post_incident_learnings`) and lists them
//! with those proposals (`list_incidents`); runbooks cite them.
//!
//! An incident is written once and never edited: a second look is a new record that links the
//! first (`links`). Its learnings are the latest set proposed from it: proposing again replaces
//! them in one transaction, so a listing never shows half of two sets.

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{History, HistoryError};

/// An incident as the caller gives it. Times are RFC 3339 (the caller checks them: the
/// history stores what it is given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NewIncident {
    pub title: String,
    /// When it started (the onset, or the window's start).
    pub started_at: String,
    /// When it ended (absent while it goes on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// When someone noticed it: how much earlier an alert would have caught it is measured
    /// from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_at: Option<String>,
    /// The scenario and constraint IDs it broke.
    pub subjects: Vec<String>,
    /// The cause as the people who resolved it state it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// What was done to resolve it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Tickets, pull requests, dashboards, earlier incidents (`incident:3`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// The analysis it was recorded with (`analyze_incident`'s answer), as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<serde_json::Value>,
    /// Who recorded it (a person's name, or `agent`).
    pub recorded_by: String,
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IncidentRecord {
    pub id: i64,
    pub recorded_at: String,
    #[serde(flatten)]
    pub incident: NewIncident,
}

/// What a learning proposes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LearningKind {
    Scenario,
    Constraint,
    AlertRule,
    RunbookUpdate,
}

impl LearningKind {
    pub const ALL: [LearningKind; 4] = [
        LearningKind::Scenario,
        LearningKind::Constraint,
        LearningKind::AlertRule,
        LearningKind::RunbookUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LearningKind::Scenario => "scenario",
            LearningKind::Constraint => "constraint",
            LearningKind::AlertRule => "alert_rule",
            LearningKind::RunbookUpdate => "runbook_update",
        }
    }

    pub fn parse(text: &str) -> Option<LearningKind> {
        LearningKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One proposal made from an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Learning {
    pub kind: LearningKind,
    /// What it is known by once adopted: a scenario or constraint ID, an alert's name, the
    /// runbook's subject.
    pub key: String,
    /// The proposal itself (a scenario draft, a constraint, a rule, a runbook section).
    pub draft: serde_json::Value,
}

/// Learnings as stored, with when they were proposed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LearningRecord {
    pub incident_id: i64,
    pub proposed_at: String,
    #[serde(flatten)]
    pub learning: Learning,
}

const INCIDENT_COLUMNS: &str = "id, recorded_at, title, started_at, ended_at, detected_at, subjects, cause, resolution, links, analysis, recorded_by";

impl History {
    /// Store an incident; `recorded_at` is the caller's clock (RFC 3339).
    pub fn record_incident(
        &mut self,
        incident: &NewIncident,
        recorded_at: &str,
    ) -> Result<IncidentRecord, HistoryError> {
        let id = self
            .conn
            .execute(
                "INSERT INTO incidents (recorded_at, title, started_at, ended_at, detected_at, subjects, cause, resolution, links, analysis, recorded_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    recorded_at,
                    incident.title,
                    incident.started_at,
                    incident.ended_at,
                    incident.detected_at,
                    json_list(&incident.subjects),
                    incident.cause,
                    incident.resolution,
                    json_list(&incident.links),
                    incident.analysis.as_ref().map(|a| a.to_string()),
                    incident.recorded_by,
                ],
            )
            .map(|_| self.conn.last_insert_rowid())
            .map_err(|e| self.db(e))?;
        self.incident(id)?.ok_or(HistoryError::UnknownIncident(id))
    }

    pub fn incident(&self, id: i64) -> Result<Option<IncidentRecord>, HistoryError> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1");
        let row = self
            .conn
            .query_row(&sql, [id], incident_from_row)
            .optional()
            .map_err(|e| self.db(e))?;
        row.transpose()
            .map_err(|problem| self.unreadable(id, problem))
    }

    /// Incidents, newest first: those touching `subject` if given, started at or after
    /// `since` (RFC 3339, compared as text: the history's times are all UTC `Z`) if given.
    pub fn incidents(
        &self,
        subject: Option<&str>,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IncidentRecord>, HistoryError> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents
             WHERE (?1 IS NULL
                    OR NOT json_valid(incidents.subjects)
                    OR EXISTS (SELECT 1 FROM json_each(incidents.subjects) WHERE value = ?1))
               AND (?2 IS NULL OR started_at >= ?2)
             ORDER BY id DESC LIMIT ?3"
        );
        let read = || -> rusqlite::Result<Vec<(i64, Result<IncidentRecord, String>)>> {
            let mut statement = self.conn.prepare(&sql)?;
            let rows = statement.query_map(params![subject, since, limit.max(1) as i64], |r| {
                Ok((r.get::<_, i64>(0)?, incident_from_row(r)?))
            })?;
            rows.collect()
        };
        read()
            .map_err(|e| self.db(e))?
            .into_iter()
            .map(|(id, row)| row.map_err(|problem| self.unreadable(id, problem)))
            .collect()
    }

    /// How many incidents the history holds.
    pub fn incident_count(&self) -> Result<u64, HistoryError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.db(e))
    }

    /// Replace the learnings proposed from `incident_id` with `learnings`, in one transaction.
    pub fn set_learnings(
        &mut self,
        incident_id: i64,
        learnings: &[Learning],
        proposed_at: &str,
    ) -> Result<(), HistoryError> {
        if self.incident(incident_id)?.is_none() {
            return Err(HistoryError::UnknownIncident(incident_id));
        }
        let path = self.path.clone();
        let db = |source| HistoryError::Database {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.execute(
            "DELETE FROM incident_learnings WHERE incident_id = ?1",
            [incident_id],
        )
        .map_err(db)?;
        for (position, l) in learnings.iter().enumerate() {
            tx.execute(
                "INSERT INTO incident_learnings (incident_id, position, proposed_at, kind, key, draft)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    incident_id,
                    position as i64,
                    proposed_at,
                    l.kind.as_str(),
                    l.key,
                    l.draft.to_string()
                ],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    /// The learnings last proposed from `incident_id`, in the order proposed.
    pub fn learnings(&self, incident_id: i64) -> Result<Vec<LearningRecord>, HistoryError> {
        let read = || -> rusqlite::Result<Vec<Result<LearningRecord, String>>> {
            let mut statement = self.conn.prepare(
                "SELECT proposed_at, kind, key, draft FROM incident_learnings
                 WHERE incident_id = ?1 ORDER BY position",
            )?;
            let rows = statement.query_map([incident_id], |r| {
                let kind: String = r.get(1)?;
                let draft: String = r.get(3)?;
                Ok((|| {
                    Ok(LearningRecord {
                        incident_id,
                        proposed_at: r.get(0).map_err(|e| e.to_string())?,
                        learning: Learning {
                            kind: LearningKind::parse(&kind).ok_or_else(|| {
                                format!("a learning of kind `{kind}`, which this SDD does not know")
                            })?,
                            key: r.get(2).map_err(|e| e.to_string())?,
                            draft: serde_json::from_str(&draft)
                                .map_err(|e| format!("a learning's draft is not JSON: {e}"))?,
                        },
                    })
                })())
            })?;
            rows.collect()
        };
        read()
            .map_err(|e| self.db(e))?
            .into_iter()
            .map(|row| row.map_err(|problem| self.unreadable(incident_id, problem)))
            .collect()
    }

    fn unreadable(&self, incident: i64, problem: String) -> HistoryError {
        HistoryError::UnreadableIncident {
            path: self.path.clone(),
            incident,
            problem,
        }
    }
}

/// A row of `incidents`: SQL errors as such, a column that does not read as its type as the
/// problem's words.
fn incident_from_row(r: &Row<'_>) -> rusqlite::Result<Result<IncidentRecord, String>> {
    let list = |column: usize, name: &str| -> Result<Vec<String>, String> {
        let text: String = r.get(column).map_err(|e| format!("{name}: {e}"))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{name} is not a JSON list of strings: {e}"))
    };
    Ok((|| {
        let text = |column: usize| r.get::<_, String>(column).map_err(|e| e.to_string());
        let optional = |column: usize| {
            r.get::<_, Option<String>>(column)
                .map_err(|e| e.to_string())
        };
        let analysis = optional(10)?
            .map(|a| serde_json::from_str(&a).map_err(|e| format!("analysis is not JSON: {e}")))
            .transpose()?;
        Ok(IncidentRecord {
            id: r.get(0).map_err(|e| e.to_string())?,
            recorded_at: text(1)?,
            incident: NewIncident {
                title: text(2)?,
                started_at: text(3)?,
                ended_at: optional(4)?,
                detected_at: optional(5)?,
                subjects: list(6, "subjects")?,
                cause: optional(7)?,
                resolution: optional(8)?,
                links: list(9, "links")?,
                analysis,
                recorded_by: text(11)?,
            },
        })
    })())
}

/// A list of strings as the JSON text it is stored as (`json_each` reads it back in SQL).
fn json_list(items: &[String]) -> String {
    serde_json::Value::from(items).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn incident(title: &str, started: &str, subjects: &[&str]) -> NewIncident {
        NewIncident {
            title: title.into(),
            started_at: started.into(),
            ended_at: Some("2026-12-01T03:40:00Z".into()),
            detected_at: Some("2026-12-01T03:25:00Z".into()),
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
            cause: Some("version 1.4.2 completes tasks with a column the schema lacks".into()),
            resolution: Some("rolled back to 1.4.1".into()),
            links: vec!["https://tracker.example/INC-7".into()],
            analysis: Some(json!({"headline": "Complete a task broke at 03:12"})),
            recorded_by: "alice".into(),
        }
    }

    #[test]
    fn an_incident_reads_back_as_recorded_and_listings_filter_by_subject_and_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(dir.path()).unwrap();
        let first = history
            .record_incident(
                &incident(
                    "completes fail",
                    "2026-12-01T03:12:00Z",
                    &["TASKS_COMPLETE"],
                ),
                "2026-12-01T04:00:00Z",
            )
            .unwrap();
        assert_eq!(first.recorded_at, "2026-12-01T04:00:00Z");
        assert_eq!(
            first.incident,
            incident(
                "completes fail",
                "2026-12-01T03:12:00Z",
                &["TASKS_COMPLETE"]
            )
        );
        history
            .record_incident(
                &incident(
                    "creates fail",
                    "2026-12-02T01:00:00Z",
                    &["TASKS_CREATE", "GLOBAL_ERRORS"],
                ),
                "2026-12-02T02:00:00Z",
            )
            .unwrap();
        let all = history.incidents(None, None, 10).unwrap();
        assert_eq!(
            all.iter()
                .map(|i| i.incident.title.as_str())
                .collect::<Vec<_>>(),
            ["creates fail", "completes fail"],
            "newest first"
        );
        let touching = history.incidents(Some("GLOBAL_ERRORS"), None, 10).unwrap();
        assert_eq!(touching.len(), 1);
        assert_eq!(touching[0].incident.title, "creates fail");
        // A subject that is a substring of another's is not a match (the list is compared
        // element by element, not as text).
        assert!(history
            .incidents(Some("TASKS"), None, 10)
            .unwrap()
            .is_empty());
        let since = history
            .incidents(None, Some("2026-12-02T00:00:00Z"), 10)
            .unwrap();
        assert_eq!(since.len(), 1);
        assert_eq!(history.incidents(None, None, 1).unwrap().len(), 1);
        assert_eq!(history.incident_count().unwrap(), 2);
        assert!(history.incident(99).unwrap().is_none());
    }

    #[test]
    fn learnings_are_replaced_as_a_set_and_kept_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(dir.path()).unwrap();
        let id = history
            .record_incident(
                &incident(
                    "completes fail",
                    "2026-12-01T03:12:00Z",
                    &["TASKS_COMPLETE"],
                ),
                "2026-12-01T04:00:00Z",
            )
            .unwrap()
            .id;
        let alert = Learning {
            kind: LearningKind::AlertRule,
            key: "SddErrorBudgetBurn1h".into(),
            draft: json!({"expr": "x > 1"}),
        };
        let scenario = Learning {
            kind: LearningKind::Scenario,
            key: "TASKS_COMPLETE_AFTER_DEPLOY".into(),
            draft: json!({"name": "Complete a task after a deploy"}),
        };
        history
            .set_learnings(
                id,
                &[alert.clone(), scenario.clone()],
                "2026-12-01T05:00:00Z",
            )
            .unwrap();
        let stored = history.learnings(id).unwrap();
        assert_eq!(
            stored.iter().map(|l| &l.learning).collect::<Vec<_>>(),
            [&alert, &scenario]
        );
        history
            .set_learnings(id, std::slice::from_ref(&scenario), "2026-12-01T06:00:00Z")
            .unwrap();
        let stored = history.learnings(id).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].proposed_at, "2026-12-01T06:00:00Z");
        assert!(matches!(
            history.set_learnings(42, &[], "2026-12-01T06:00:00Z"),
            Err(HistoryError::UnknownIncident(42))
        ));
    }

    /// A row another SDD wrote wrong is an error naming the incident, never a default.
    #[test]
    fn an_unreadable_row_names_its_incident() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(dir.path()).unwrap();
        let id = history
            .record_incident(
                &incident("x", "2026-12-01T03:12:00Z", &["A"]),
                "2026-12-01T04:00:00Z",
            )
            .unwrap()
            .id;
        history
            .conn
            .execute("UPDATE incidents SET subjects = 'A, B' WHERE id = ?1", [id])
            .unwrap();
        let e = history.incident(id).unwrap_err().to_string();
        assert!(
            e.contains(&format!("incident {id}")) && e.contains("subjects"),
            "{e}"
        );
        // Looked up by subject, too: the row is named, not the whole file called unusable
        // ("malformed JSON … move the file away", which would lose every good incident).
        let e = history
            .incidents(Some("A"), None, 10)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("incident {id}"))
                && !e.to_lowercase().contains("move the file away"),
            "{e}"
        );
        history
            .conn
            .execute("UPDATE incidents SET subjects = '[]' WHERE id = ?1", [id])
            .unwrap();
        history
            .conn
            .execute(
                "INSERT INTO incident_learnings (incident_id, position, proposed_at, kind, key, draft) VALUES (?1, 0, 't', 'prophecy', 'k', '{}')",
                [id],
            )
            .unwrap();
        let e = history.learnings(id).unwrap_err().to_string();
        assert!(e.contains("prophecy"), "{e}");
    }
}
