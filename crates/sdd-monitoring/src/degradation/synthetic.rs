//! Synthetic series at production scale, for tests and benchmarks (feature `testing`): days
//! cannot be waited for. A load with daily and weekly cycles, and series over it with a
//! planted fault or none: a leak, a creep, a step, a decline, growth that only follows load,
//! strong cycles without a trend, and noise with autocorrelation and spikes.

/// 2026-09-01T00:00:00Z, a Tuesday: where the synthetic series start.
pub const START_MS: i64 = 1_788_220_800_000;

/// A small deterministic generator (SplitMix64), so a seed is a series.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(f64::MIN_POSITIVE);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// What is planted in a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Planted {
    /// Noise (AR(1), φ 0.6), a daily cycle and rare spikes; no trend.
    Healthy,
    /// Strong daily and weekly cycles (a third of the level), no trend.
    Seasonal,
    /// Grows only with the load, which itself grows 1 % a day (traffic growth, not a fault).
    FollowsLoad,
    /// Memory that grows `percent_per_day` at the same load (a leak).
    Leak { percent_per_day: f64 },
    /// Latency creeping up `percent_per_week`.
    Creep { percent_per_week: f64 },
    /// A step of `percent` at `at_day`.
    Step { at_day: f64, percent: f64 },
    /// A hit ratio falling `points_per_day` percentage points a day.
    Decline { points_per_day: f64 },
}

/// The shape of a synthetic run.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub days: f64,
    pub step_ms: i64,
    pub seed: u64,
}

impl Shape {
    /// 90 days at one point a minute: 129,600 points.
    pub fn ninety_days(seed: u64) -> Shape {
        Shape {
            days: 90.0,
            step_ms: 60_000,
            seed,
        }
    }

    pub fn times(&self) -> impl Iterator<Item = i64> {
        let n = (self.days * 86_400_000.0 / self.step_ms as f64) as i64;
        let step = self.step_ms;
        (0..n).map(move |i| START_MS + i * step)
    }
}

fn day_of(t: i64) -> f64 {
    (t - START_MS) as f64 / 86_400_000.0
}

/// The load, requests per second: 100 on average, a daily cycle (quiet at night), quieter
/// weekends, noise; `growth_per_day` (a share) compounds over the days.
pub fn load(shape: &Shape, growth_per_day: f64) -> Vec<(i64, f64)> {
    let mut rng = Rng::new(shape.seed ^ 0x10AD);
    shape
        .times()
        .map(|t| {
            let d = day_of(t);
            let hour = d.fract() * 24.0;
            let daily = 1.0 + 0.5 * ((hour - 15.0) / 24.0 * std::f64::consts::TAU).cos();
            let weekday = ((d.floor() as i64 + 2) % 7) as u8; // START is a Tuesday.
            let weekly = if weekday >= 5 { 0.7 } else { 1.0 };
            let value = 100.0 * daily * weekly * (1.0 + growth_per_day).powf(d);
            (t, (value * (1.0 + 0.05 * rng.normal())).max(0.0))
        })
        .collect()
}

/// A series with `planted` in it, over `load` (the same shape).
pub fn series(shape: &Shape, planted: Planted, load: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut rng = Rng::new(shape.seed ^ 0x5E71E5);
    let mut ar = 0.0;
    let ratio = matches!(planted, Planted::Decline { .. });
    load.iter()
        .map(|&(t, l)| {
            let d = day_of(t);
            ar = 0.6 * ar + rng.normal();
            let hour = d.fract() * 24.0;
            let daily = (hour / 24.0 * std::f64::consts::TAU).sin();
            let spike = if rng.uniform() < 0.0005 { 3.0 } else { 1.0 };
            let value = match planted {
                Planted::Healthy => 500.0 * (1.0 + 0.02 * ar * 0.8 + 0.03 * daily) * spike,
                Planted::Seasonal => {
                    let weekday = ((d.floor() as i64 + 2) % 7) as u8;
                    let weekly = if weekday >= 5 { -0.15 } else { 0.05 };
                    500.0 * (1.0 + 0.02 * ar * 0.8 + 0.3 * daily + weekly)
                }
                Planted::FollowsLoad => 200.0 + 3.0 * l + 10.0 * ar,
                Planted::Leak { percent_per_day } => {
                    (400.0 + 1.0 * l) * (1.0 + 0.01 * ar * 0.8)
                        + 500.0 * percent_per_day / 100.0 * d
                }
                Planted::Creep { percent_per_week } => {
                    0.080
                        * (1.0 + percent_per_week / 100.0 / 7.0 * d)
                        * (1.0 + 0.03 * ar * 0.8)
                        * spike
                        + 0.0002 * l
                }
                Planted::Step { at_day, percent } => {
                    let level = if d >= at_day {
                        1.0 + percent / 100.0
                    } else {
                        1.0
                    };
                    0.080 * level * (1.0 + 0.03 * ar * 0.8 + 0.05 * daily) * spike
                }
                Planted::Decline { points_per_day } => {
                    0.92 - points_per_day / 100.0 * d + 0.01 * ar * 0.8 + 0.01 * daily
                }
            };
            (t, if ratio { value.clamp(0.0, 1.0) } else { value })
        })
        .collect()
}

/// `(metric name, labels as `{a="b"}` or empty, points)`.
pub type NamedSeries<'a> = (&'a str, &'a str, &'a [(i64, f64)]);

/// The series as OpenMetrics text (gauges; `(name, labels, points)` with labels written
/// `{a="b"}` or empty), for `sdd metrics import`: each family's series together under its
/// `# TYPE`, timestamps in seconds.
pub fn openmetrics(series: &[NamedSeries]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut names: Vec<&str> = Vec::new();
    for (name, _, _) in series {
        if !names.contains(name) {
            names.push(name);
        }
    }
    for family in names {
        let _ = writeln!(out, "# TYPE {family} gauge");
        for (name, labels, points) in series.iter().filter(|s| s.0 == family) {
            for &(t, v) in points.iter() {
                let _ = writeln!(out, "{name}{labels} {v} {}.{:03}", t / 1000, t % 1000);
            }
        }
    }
    out.push_str("# EOF\n");
    out
}
