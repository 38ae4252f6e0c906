//! The queries the monitoring tools ask, as a small PromQL subset: a range function over one
//! or more selectors, `sum by (…)`, and `histogram_quantile`. A Prometheus source is sent the
//! expression's PromQL text; the embedded store evaluates the same expression itself with
//! `sdd_metrics::summary`, which follows Prometheus' code — so both give the same numbers, and
//! every answer can name the query behind it in the one language a user already reads.

use std::fmt;

use crate::selector::Selector;

/// A function over a range of samples (`f(selector[range])`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeFn {
    MinOverTime,
    MaxOverTime,
    AvgOverTime,
    /// `quantile_over_time(q, …)`, `q` in [0, 1].
    QuantileOverTime(f64),
    LastOverTime,
    CountOverTime,
    /// Least-squares slope per second.
    Deriv,
    /// A counter's per-second increase.
    Rate,
    /// A counter's increase over the range.
    Increase,
}

impl RangeFn {
    pub fn name(self) -> &'static str {
        match self {
            RangeFn::MinOverTime => "min_over_time",
            RangeFn::MaxOverTime => "max_over_time",
            RangeFn::AvgOverTime => "avg_over_time",
            RangeFn::QuantileOverTime(_) => "quantile_over_time",
            RangeFn::LastOverTime => "last_over_time",
            RangeFn::CountOverTime => "count_over_time",
            RangeFn::Deriv => "deriv",
            RangeFn::Rate => "rate",
            RangeFn::Increase => "increase",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `f(s1[range]) or f(s2[range]) …`: the series of every selector (a series several
    /// selectors select counts once).
    Range {
        func: RangeFn,
        selectors: Vec<Selector>,
        range_ms: i64,
    },
    /// `sum by (labels) (inner)`.
    Sum { by: Vec<String>, inner: Box<Expr> },
    /// `histogram_quantile(q, inner)`: `inner` gives bucket counts labelled `le`.
    HistogramQuantile { q: f64, inner: Box<Expr> },
}

impl Expr {
    pub fn range(func: RangeFn, selector: Selector, range_ms: i64) -> Expr {
        Expr::Range {
            func,
            selectors: vec![selector],
            range_ms,
        }
    }

    pub fn sum_by(by: &[&str], inner: Expr) -> Expr {
        Expr::Sum {
            by: by.iter().map(|s| s.to_string()).collect(),
            inner: Box::new(inner),
        }
    }

    /// `histogram_quantile(q, sum by (le, by…) (increase(bucket_selectors[range])))`.
    pub fn latency_quantile(q: f64, buckets: Vec<Selector>, range_ms: i64, by: &[&str]) -> Expr {
        let mut labels = vec!["le".to_string()];
        labels.extend(by.iter().map(|s| s.to_string()));
        Expr::HistogramQuantile {
            q,
            inner: Box::new(Expr::Sum {
                by: labels,
                inner: Box::new(Expr::Range {
                    func: RangeFn::Increase,
                    selectors: buckets,
                    range_ms,
                }),
            }),
        }
    }
}

/// A range in PromQL's duration syntax: whole seconds as `Ns`, else `Nms`.
pub fn duration(range_ms: i64) -> String {
    if range_ms % 1000 == 0 {
        format!("{}s", range_ms / 1000)
    } else {
        format!("{range_ms}ms")
    }
}

/// A number as PromQL reads it back exactly (Rust's shortest round-trip form).
fn number(value: f64) -> String {
    format!("{value:?}")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Range {
                func,
                selectors,
                range_ms,
            } => {
                for (i, selector) in selectors.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    f.write_str(func.name())?;
                    f.write_str("(")?;
                    if let RangeFn::QuantileOverTime(q) = func {
                        write!(f, "{}, ", number(*q))?;
                    }
                    write!(f, "{selector}[{}])", duration(*range_ms))?;
                }
                Ok(())
            }
            Expr::Sum { by, inner } => {
                f.write_str("sum")?;
                if !by.is_empty() {
                    write!(f, " by ({})", by.join(", "))?;
                }
                write!(f, " ({inner})")
            }
            Expr::HistogramQuantile { q, inner } => {
                write!(f, "histogram_quantile({}, {inner})", number(*q))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selector::Matcher;

    #[test]
    fn renders_promql() {
        let s = Selector::named("x_bucket").with(Matcher::equal("route", "/tasks"));
        let cases = [
            (
                Expr::range(
                    RangeFn::QuantileOverTime(0.95),
                    Selector::named("g"),
                    3_600_000,
                ),
                "quantile_over_time(0.95, g[3600s])",
            ),
            (
                Expr::sum_by(
                    &["status"],
                    Expr::range(RangeFn::Increase, Selector::named("c_total"), 1500),
                ),
                "sum by (status) (increase(c_total[1500ms]))",
            ),
            (
                Expr::latency_quantile(0.99, vec![s.clone(), s.renamed("y_bucket")], 300_000, &[]),
                r#"histogram_quantile(0.99, sum by (le) (increase(x_bucket{route="/tasks"}[300s]) or increase(y_bucket{route="/tasks"}[300s])))"#,
            ),
            (
                Expr::sum_by(&[], Expr::range(RangeFn::Rate, s, 60_000)),
                r#"sum (rate(x_bucket{route="/tasks"}[60s]))"#,
            ),
        ];
        for (expr, promql) in cases {
            assert_eq!(expr.to_string(), promql);
        }
    }
}
