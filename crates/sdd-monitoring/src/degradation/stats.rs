//! The statistics behind the degradation hunter, on bucketed series (`x` in days, `y` the
//! bucket's value). Distributions come from `statrs`; the rest is written here because no
//! lean crate has it (`augurs` has change points and seasonality, but brings about 200 crates):
//!
//! - the Theil–Sen slope with Sen's confidence interval;
//! - the Mann–Kendall test with the Hamed–Rao variance correction for autocorrelation;
//! - the removal of a periodic profile (a day, a week), kept only when an F test says it is
//!   there;
//! - PELT over segments that are each a line, for steps and changes of slope;
//! - a Huber-weighted fit of a resource on load and time;
//! - Spearman's correlation.
//!
//! Checked against scipy 1.17 (`theilslopes`, `spearmanr`), pymannkendall 1.4.3
//! (`hamed_rao_modification_test`) and ruptures 1.1 (PELT) in the tests below.

use statrs::distribution::{ContinuousCDF, FisherSnedecor, Normal, StudentsT};

fn standard_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("the standard normal")
}

/// `P(|Z| ≥ |z|)`.
pub fn two_sided_p(z: f64) -> f64 {
    if !z.is_finite() {
        return if z.is_nan() { 1.0 } else { 0.0 };
    }
    (2.0 * standard_normal().sf(z.abs())).min(1.0)
}

/// The standard normal's `p` quantile.
pub fn normal_quantile(p: f64) -> f64 {
    standard_normal().inverse_cdf(p.clamp(1e-12, 1.0 - 1e-12))
}

pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    median_in_place(&mut v)
}

/// The median, reordering `v`.
pub fn median_in_place(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let (_, &mut upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

/// The median absolute deviation scaled to a normal's standard deviation.
pub fn robust_sigma(values: &[f64]) -> Option<f64> {
    let m = median(values)?;
    let mut deviations: Vec<f64> = values.iter().map(|v| (v - m).abs()).collect();
    Some(1.4826 * median_in_place(&mut deviations)?)
}

/// A Theil–Sen line: the median of the pairwise slopes, with Sen's confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TheilSen {
    pub slope: f64,
    /// `median(y − slope·x)`.
    pub intercept: f64,
    pub low: f64,
    pub high: f64,
}

/// The Theil–Sen slope of `y` on `x`, and its interval at `confidence` from Sen (1968):
/// with `N` pairwise slopes and `C = z·√var_s`, the slopes of rank `(N − C)/2` and
/// `(N + C)/2 + 1`. `var_s` is the Mann–Kendall variance of S (corrected for autocorrelation
/// when the caller has it), which is what widens the interval for dependent data.
pub fn theil_sen(x: &[f64], y: &[f64], var_s: f64, confidence: f64) -> Option<TheilSen> {
    let n = x.len().min(y.len());
    let mut slopes = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let dx = x[j] - x[i];
            if dx != 0.0 {
                slopes.push((y[j] - y[i]) / dx);
            }
        }
    }
    let count = slopes.len();
    if count == 0 {
        return None;
    }
    let slope = median_in_place(&mut slopes)?;
    let c = normal_quantile(1.0 - (1.0 - confidence) / 2.0) * var_s.max(0.0).sqrt();
    let mut rank = |r: f64| -> f64 {
        let i = (r.round() as i64 - 1).clamp(0, count as i64 - 1) as usize;
        *slopes.select_nth_unstable_by(i, f64::total_cmp).1
    };
    let low = rank((count as f64 - c) / 2.0);
    let high = rank((count as f64 + c) / 2.0 + 1.0);
    let mut residuals: Vec<f64> = (0..n).map(|i| y[i] - slope * x[i]).collect();
    let intercept = median_in_place(&mut residuals)?;
    Some(TheilSen {
        slope,
        intercept,
        low: low.min(slope),
        high: high.max(slope),
    })
}

/// The Mann–Kendall trend test with Hamed and Rao's (1998) correction: the variance of S is
/// multiplied by `n / n*`, from the autocorrelation of the detrended series' ranks at the
/// lags where it is significant (5 %). Positive autocorrelation (a slow wander, a cycle left
/// over) otherwise reads as a trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    pub s: f64,
    /// Var(S) under independence, ties counted.
    pub var_s: f64,
    /// `n / n*`: how much autocorrelation inflates the variance (never below 1 here: a
    /// negative correction would claim more than independence does).
    pub variance_inflation: f64,
    pub z: f64,
    /// Two-sided.
    pub p: f64,
    /// Kendall's tau, `S / (n(n−1)/2)`.
    pub tau: f64,
}

impl MannKendall {
    /// Var(S) with the correction.
    pub fn corrected_var(&self) -> f64 {
        self.var_s * self.variance_inflation
    }
}

/// Mann–Kendall on `y` (in time order), corrected with the ranks of `y − slope·x`.
pub fn mann_kendall_hamed_rao(x: &[f64], y: &[f64], slope: f64) -> Option<MannKendall> {
    let n = y.len().min(x.len());
    if n < 4 {
        return None;
    }
    let mut s = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            s += sign(y[j] - y[i]);
        }
    }
    let nf = n as f64;
    let ties = tie_groups(y);
    let tie_term: f64 = ties.iter().map(|&t| t * (t - 1.0) * (2.0 * t + 5.0)).sum();
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - tie_term) / 18.0;
    let detrended: Vec<f64> = (0..n).map(|i| y[i] - slope * x[i]).collect();
    let ranks = ranks(&detrended);
    let mean = ranks.iter().sum::<f64>() / nf;
    let centred: Vec<f64> = ranks.iter().map(|r| r - mean).collect();
    let denominator: f64 = centred.iter().map(|c| c * c).sum();
    let mut sum = 0.0;
    if denominator > 0.0 {
        // Lags whose autocorrelation lies outside ±z/√n (5 %), as pymannkendall bounds them.
        let bound = normal_quantile(0.975) / nf.sqrt();
        for k in 1..n {
            let r: f64 = (0..n - k).map(|i| centred[i] * centred[i + k]).sum::<f64>() / denominator;
            if r.abs() > bound {
                let m = (n - k) as f64;
                sum += m * (m - 1.0) * (m - 2.0) * r;
            }
        }
    }
    let inflation = (1.0 + 2.0 / (nf * (nf - 1.0) * (nf - 2.0)) * sum).max(1.0);
    let var = var_s * inflation;
    let z = if var <= 0.0 {
        0.0
    } else {
        (s - sign(s)) / var.sqrt()
    };
    Some(MannKendall {
        s,
        var_s,
        variance_inflation: inflation,
        z,
        p: two_sided_p(z),
        tau: s / (nf * (nf - 1.0) / 2.0),
    })
}

fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Sizes of the groups of equal values (only groups of two or more).
fn tie_groups(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut groups = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i + 1;
        while j < sorted.len() && sorted[j] == sorted[i] {
            j += 1;
        }
        if j - i > 1 {
            groups.push((j - i) as f64);
        }
        i = j;
    }
    groups
}

/// Ranks from 1, ties given their average rank.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j + 1) as f64 / 2.0;
        for &k in &order[i..j] {
            out[k] = rank;
        }
        i = j;
    }
    out
}

/// Spearman's rank correlation and its two-sided p (Student's t with n − 2 degrees of
/// freedom, as scipy's `spearmanr`).
pub fn spearman(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let n = a.len().min(b.len());
    if n < 4 {
        return None;
    }
    let (ra, rb) = (ranks(&a[..n]), ranks(&b[..n]));
    let rho = pearson(&ra, &rb)?;
    spearman_p(rho, n)
}

/// `(ρ, p)`: the two-sided p of a rank correlation `rho` over `n` pairs.
pub fn spearman_p(rho: f64, n: usize) -> Option<(f64, f64)> {
    let df = n as f64 - 2.0;
    if df < 1.0 {
        return None;
    }
    let t = rho * (df / ((1.0 - rho) * (1.0 + rho)).max(1e-300)).sqrt();
    if !t.is_finite() {
        return None;
    }
    let p = StudentsT::new(0.0, 1.0, df).ok()?.sf(t.abs()) * 2.0;
    Some((rho, p.min(1.0)))
}

fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// A periodic profile taken out of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Seasonal {
    /// The period, in the same unit as `x`.
    pub period: f64,
    /// Share of the detrended variance the profile explains.
    pub explained: f64,
    /// The F test's p of "no profile".
    pub p: f64,
    /// Peak to trough of the profile.
    pub amplitude: f64,
}

/// Take a periodic profile (the median of the detrended values at each phase, `phases` per
/// `period`) out of `y`, in place, when an F test of the phases' means finds one at `alpha`;
/// `None` (and `y` untouched) when there is not enough data (two periods) or no profile.
pub fn remove_period(
    x: &[f64],
    y: &mut [f64],
    slope: f64,
    period: f64,
    phases: usize,
    alpha: f64,
) -> Option<Seasonal> {
    let n = y.len().min(x.len());
    if n < 2 * phases || phases < 2 || x[n - 1] - x[0] < 2.0 * period {
        return None;
    }
    // Bucket starts fall on phase boundaries: the nudge keeps `k − ε` in phase `k`.
    let phase_of = |t: f64| -> usize {
        let f = (t / period).rem_euclid(1.0);
        ((f * phases as f64 + 1e-6) as usize) % phases
    };
    let detrended: Vec<f64> = (0..n).map(|i| y[i] - slope * x[i]).collect();
    let mut groups: Vec<Vec<f64>> = vec![Vec::new(); phases];
    for i in 0..n {
        groups[phase_of(x[i])].push(detrended[i]);
    }
    if groups.iter().any(|g| g.len() < 2) {
        return None;
    }
    // One-way ANOVA of the phases.
    let grand = detrended.iter().sum::<f64>() / n as f64;
    let (mut between, mut within) = (0.0, 0.0);
    for g in &groups {
        let mean = g.iter().sum::<f64>() / g.len() as f64;
        between += g.len() as f64 * (mean - grand).powi(2);
        within += g.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
    }
    let (df1, df2) = ((phases - 1) as f64, (n - phases) as f64);
    let p = if within <= 0.0 {
        if between > 0.0 {
            0.0
        } else {
            1.0
        }
    } else {
        let f = (between / df1) / (within / df2);
        if !f.is_finite() {
            return None;
        }
        FisherSnedecor::new(df1, df2).ok()?.sf(f)
    };
    if p >= alpha {
        return None;
    }
    let mut profile: Vec<f64> = groups
        .iter_mut()
        .map(|g| median_in_place(g).unwrap_or(0.0))
        .collect();
    let centre = median(&profile).unwrap_or(0.0);
    for v in &mut profile {
        *v -= centre;
    }
    for i in 0..n {
        y[i] -= profile[phase_of(x[i])];
    }
    let (low, high) = profile
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    Some(Seasonal {
        period,
        explained: between / (between + within),
        p,
        amplitude: high - low,
    })
}

/// A change found by PELT: where the series' line changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    /// The index of the first point of the new segment.
    pub index: usize,
    /// The two lines' difference at the change (the new minus the old).
    pub step: f64,
    /// The new slope minus the old.
    pub slope_change: f64,
    /// The step in units of the noise's standard deviation.
    pub step_sigmas: f64,
}

/// PELT (Killick, Fearnhead and Eckley 2012) over segments that are each a least-squares line,
/// the cost a segment's squared residuals over `sigma²`, the penalty per change `penalty`
/// (3 parameters a segment: `3·ln n` is the BIC's). Segments are at least `min_len` long.
pub fn pelt_lines(
    x: &[f64],
    y: &[f64],
    sigma: f64,
    penalty: f64,
    min_len: usize,
) -> Vec<ChangePoint> {
    let n = x.len().min(y.len());
    let min_len = min_len.max(3);
    if n < 2 * min_len || sigma <= 0.0 || !sigma.is_finite() {
        return Vec::new();
    }
    // Prefix sums: a segment's least-squares line and residuals in O(1).
    let mut sums = vec![[0.0f64; 5]; n + 1];
    for i in 0..n {
        let (xi, yi) = (x[i] - x[0], y[i]);
        let prev = sums[i];
        sums[i + 1] = [
            prev[0] + xi,
            prev[1] + yi,
            prev[2] + xi * xi,
            prev[3] + xi * yi,
            prev[4] + yi * yi,
        ];
    }
    let var = sigma * sigma;
    let cost = |s: usize, e: usize| -> f64 { line_fit(&sums, s, e).2 / var };
    let mut best = vec![f64::INFINITY; n + 1];
    best[0] = -penalty;
    let mut last = vec![0usize; n + 1];
    let mut candidates: Vec<usize> = vec![0];
    for t in 1..=n {
        for &s in &candidates {
            if t - s >= min_len {
                let c = best[s] + cost(s, t) + penalty;
                if c < best[t] {
                    best[t] = c;
                    last[t] = s;
                }
            }
        }
        // Pruning: a start whose cost already exceeds the best cannot be optimal later.
        let bound = best[t] + penalty;
        candidates.retain(|&s| t - s < min_len || best[s] + cost(s, t) + penalty <= bound);
        if best[t].is_finite() {
            candidates.push(t);
        }
    }
    if !best[n].is_finite() {
        return Vec::new();
    }
    let mut bounds = Vec::new();
    let mut t = n;
    while t > 0 {
        let s = last[t];
        if s == 0 {
            break;
        }
        bounds.push(s);
        t = s;
    }
    bounds.reverse();
    let mut out = Vec::new();
    let mut starts = vec![0];
    starts.extend(bounds.iter().copied());
    starts.push(n);
    for w in starts.windows(3) {
        let (a, b, c) = (w[0], w[1], w[2]);
        let (before_slope, before_intercept, _) = line_fit(&sums, a, b);
        let (after_slope, after_intercept, _) = line_fit(&sums, b, c);
        let at = x[b] - x[0];
        let step = (after_intercept + after_slope * at) - (before_intercept + before_slope * at);
        out.push(ChangePoint {
            index: b,
            step,
            slope_change: after_slope - before_slope,
            step_sigmas: step / sigma,
        });
    }
    out
}

/// The least-squares line over `[s, e)`: slope, intercept and squared residuals.
fn line_fit(sums: &[[f64; 5]], s: usize, e: usize) -> (f64, f64, f64) {
    let m = (e - s) as f64;
    let d = |k: usize| sums[e][k] - sums[s][k];
    let (sx, sy, sxx, sxy, syy) = (d(0), d(1), d(2), d(3), d(4));
    let vxx = sxx - sx * sx / m;
    let vxy = sxy - sx * sy / m;
    let vyy = syy - sy * sy / m;
    if vxx <= 1e-12 * sxx.abs().max(1.0) {
        return (0.0, sy / m, vyy.max(0.0));
    }
    let slope = vxy / vxx;
    let intercept = (sy - slope * sx) / m;
    (slope, intercept, (vyy - slope * vxy).max(0.0))
}

/// A Huber-weighted least-squares fit `y = a + b·load + c·x`, with standard errors widened
/// for the residuals' lag-1 autocorrelation (`(1 + ρ) / (1 − ρ)`): the time term `c` is the
/// growth at the same load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadFit {
    pub intercept: f64,
    pub load: f64,
    pub load_se: f64,
    pub time: f64,
    pub time_se: f64,
    /// The residuals' lag-1 autocorrelation.
    pub rho: f64,
    /// Share of the variance the load term explains beyond time.
    pub load_explained: f64,
}

impl LoadFit {
    pub fn time_p(&self) -> f64 {
        two_sided_p(self.time / self.time_se)
    }
    pub fn load_p(&self) -> f64 {
        two_sided_p(self.load / self.load_se)
    }
}

pub fn huber_load_fit(x: &[f64], load: &[f64], y: &[f64]) -> Option<LoadFit> {
    let n = x.len().min(load.len()).min(y.len());
    if n < 8 {
        return None;
    }
    // Centred and scaled regressors keep the 3×3 system well conditioned (a cumulative
    // business volume in the tens of thousands beside minutes counted in days); the
    // coefficients and their errors are scaled back at the end.
    let (mx, ml) = (
        x[..n].iter().sum::<f64>() / n as f64,
        load[..n].iter().sum::<f64>() / n as f64,
    );
    let spread = |v: &[f64], m: f64| {
        let sd = (v[..n].iter().map(|a| (a - m).powi(2)).sum::<f64>() / n as f64).sqrt();
        if sd > 0.0 {
            sd
        } else {
            1.0
        }
    };
    let (sx, sl) = (spread(x, mx), spread(load, ml));
    let rows: Vec<[f64; 3]> = (0..n)
        .map(|i| [1.0, (load[i] - ml) / sl, (x[i] - mx) / sx])
        .collect();
    let mut weights = vec![1.0; n];
    let mut scale = 0.0;
    for _ in 0..20 {
        let beta = weighted_least_squares(&rows, &y[..n], &weights)?.0;
        let residuals: Vec<f64> = (0..n).map(|i| y[i] - dot(&rows[i], &beta)).collect();
        scale = robust_sigma(&residuals)?;
        if scale <= 0.0 {
            break;
        }
        let k = 1.345 * scale;
        let mut changed = false;
        for (w, r) in weights.iter_mut().zip(&residuals) {
            let next = if r.abs() <= k { 1.0 } else { k / r.abs() };
            changed |= (next - *w).abs() > 1e-6;
            *w = next;
        }
        if !changed {
            break;
        }
    }
    let (beta, inverse) = weighted_least_squares(&rows, &y[..n], &weights)?;
    let residuals: Vec<f64> = (0..n).map(|i| y[i] - dot(&rows[i], &beta)).collect();
    let weight_sum: f64 = weights.iter().sum();
    let sigma2 = (0..n)
        .map(|i| weights[i] * residuals[i] * residuals[i])
        .sum::<f64>()
        / (weight_sum - 3.0).max(1.0);
    let sigma2 = if sigma2 > 0.0 { sigma2 } else { scale * scale };
    let rho = lag1(&residuals).clamp(0.0, 0.95);
    let widen = (1.0 + rho) / (1.0 - rho);
    // Variance the load term explains beyond time: SS(without load) − SS(with).
    let time_only: Vec<[f64; 3]> = rows.iter().map(|r| [r[0], 0.0, r[2]]).collect();
    let load_explained = match weighted_least_squares_2(&time_only, &y[..n], &weights) {
        Some(without) => {
            let ss = |b: &[f64; 3], rows: &[[f64; 3]]| -> f64 {
                (0..n)
                    .map(|i| weights[i] * (y[i] - dot(&rows[i], b)).powi(2))
                    .sum::<f64>()
            };
            let (with, without) = (ss(&beta, &rows), ss(&without, &time_only));
            if without > 0.0 {
                ((without - with) / without).max(0.0)
            } else {
                0.0
            }
        }
        None => 0.0,
    };
    let (load_coefficient, time_coefficient) = (beta[1] / sl, beta[2] / sx);
    Some(LoadFit {
        intercept: beta[0] - load_coefficient * ml - time_coefficient * mx,
        load: load_coefficient,
        load_se: (sigma2 * inverse[1][1] * widen).max(0.0).sqrt() / sl,
        time: time_coefficient,
        time_se: (sigma2 * inverse[2][2] * widen).max(0.0).sqrt() / sx,
        rho,
        load_explained,
    })
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn lag1(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    if var <= 0.0 {
        return 0.0;
    }
    values
        .windows(2)
        .map(|w| (w[0] - mean) * (w[1] - mean))
        .sum::<f64>()
        / var
}

type Matrix3 = [[f64; 3]; 3];

/// Weighted least squares with its `(XᵀWX)⁻¹`.
fn weighted_least_squares(
    rows: &[[f64; 3]],
    y: &[f64],
    weights: &[f64],
) -> Option<([f64; 3], Matrix3)> {
    let mut a = [[0.0; 3]; 3];
    let mut b = [0.0; 3];
    for ((row, &yi), &w) in rows.iter().zip(y).zip(weights) {
        for i in 0..3 {
            b[i] += w * row[i] * yi;
            for j in 0..3 {
                a[i][j] += w * row[i] * row[j];
            }
        }
    }
    let inverse = invert3(&a)?;
    let mut beta = [0.0; 3];
    for i in 0..3 {
        beta[i] = (0..3).map(|j| inverse[i][j] * b[j]).sum();
    }
    Some((beta, inverse))
}

/// The same with the load column zero (the time-only model).
fn weighted_least_squares_2(rows: &[[f64; 3]], y: &[f64], weights: &[f64]) -> Option<[f64; 3]> {
    let two: Vec<[f64; 3]> = rows.iter().map(|r| [r[0], r[2], 0.0]).collect();
    let mut a = [[0.0; 2]; 2];
    let mut b = [0.0; 2];
    for ((row, &yi), &w) in two.iter().zip(y).zip(weights) {
        for i in 0..2 {
            b[i] += w * row[i] * yi;
            for j in 0..2 {
                a[i][j] += w * row[i] * row[j];
            }
        }
    }
    let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    if det.abs() < 1e-300 {
        return None;
    }
    let b0 = (a[1][1] * b[0] - a[0][1] * b[1]) / det;
    let b1 = (a[0][0] * b[1] - a[1][0] * b[0]) / det;
    Some([b0, 0.0, b1])
}

fn invert3(m: &Matrix3) -> Option<Matrix3> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let scale = m.iter().flatten().fold(0.0f64, |a, v| a.max(v.abs()));
    if det.abs() <= 1e-12 * scale.powi(3) || !det.is_finite() {
        return None;
    }
    let c =
        |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let adj = [
        [c(1, 2, 1, 2), -c(0, 2, 1, 2), c(0, 1, 1, 2)],
        [-c(1, 2, 0, 2), c(0, 2, 0, 2), -c(0, 1, 0, 2)],
        [c(1, 2, 0, 1), -c(0, 2, 0, 1), c(0, 1, 0, 1)],
    ];
    let mut out = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            out[i][j] = adj[i][j] / det;
        }
    }
    Some(out)
}

/// Benjamini–Hochberg adjusted p values, in the input's order.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let n = p.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut out = vec![1.0; n];
    let mut running = 1.0f64;
    for (k, &i) in order.iter().enumerate() {
        let rank = (n - k) as f64;
        running = running.min(p[i] * n as f64 / rank);
        out[i] = running.min(1.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1.0)
    }

    /// 40 points of a 0.08-per-step trend in AR(1) noise (φ 0.6), rounded to one decimal so
    /// there are ties; the answers are scipy 1.17's and pymannkendall 1.4.3's.
    const AUTOCORRELATED: [f64; 40] = [
        0.0, 0.1, 0.5, 0.1, -0.6, -0.6, -1.1, -0.3, 1.4, 0.7, 0.2, 1.0, 1.4, 1.4, 0.4, 0.7, 1.7,
        0.3, 0.3, -1.0, -1.2, -1.9, -0.6, -0.8, 0.6, 1.4, 1.5, -0.7, -0.0, 0.9, 1.7, 0.5, 0.9, 0.7,
        0.7, 2.7, 2.0, 2.4, 3.6, 2.9,
    ];

    #[test]
    fn mann_kendall_and_hamed_rao_match_pymannkendall() {
        // From 1, as pymannkendall detrends: `y − k·slope` rounds the same, and the detrended
        // series' near-ties rank the same.
        let x: Vec<f64> = (1..=40).map(f64::from).collect();
        let y = AUTOCORRELATED;
        let line = theil_sen(&x, &y, 0.0, 0.95).unwrap();
        assert!(close(line.slope, 0.05, 1e-12), "{line:?}");
        let mk = mann_kendall_hamed_rao(&x, &y, line.slope).unwrap();
        // pymannkendall.original_test: S 271, Var(S) 7339.667, z 3.1516.
        assert_eq!(mk.s, 271.0);
        assert!(close(mk.var_s, 7339.666666666667, 1e-9), "{mk:?}");
        // hamed_rao_modification_test: Var*(S) 14803.70, z 2.2191, p 0.02648, tau 0.34744.
        assert!(
            close(mk.corrected_var(), 14803.699141949812, 1e-9),
            "{mk:?}"
        );
        assert!(close(mk.z, 2.2191090216491376, 1e-9), "{mk:?}");
        assert!(close(mk.p, 0.026479308431201165, 1e-6), "{mk:?}");
        assert!(close(mk.tau, 0.3474358974358974, 1e-12));
    }

    #[test]
    fn theil_sen_and_its_interval_match_scipy() {
        let x: Vec<f64> = (0..40).map(f64::from).collect();
        let y = AUTOCORRELATED;
        let mk = mann_kendall_hamed_rao(&x, &y, 0.05).unwrap();
        // scipy.stats.theilslopes(y, x, 0.95, method="joint"): Var(S) with ties, uncorrected.
        let line = theil_sen(&x, &y, mk.var_s, 0.95).unwrap();
        assert!(close(line.slope, 0.05, 1e-12));
        assert!(close(line.intercept, -0.3, 1e-12), "{line:?}");
        assert!(close(line.low, 0.017647058823529415, 1e-12), "{line:?}");
        assert!(close(line.high, 0.08333333333333333, 1e-12), "{line:?}");
        // The textbook line: y = 2x + 1 exactly, one outlier does not move it.
        let x: Vec<f64> = (0..11).map(f64::from).collect();
        let mut y: Vec<f64> = x.iter().map(|x| 2.0 * x + 1.0).collect();
        y[5] = 100.0;
        let line = theil_sen(&x, &y, 0.0, 0.95).unwrap();
        assert_eq!((line.slope, line.intercept), (2.0, 1.0));
    }

    #[test]
    fn spearman_matches_scipy() {
        let y = AUTOCORRELATED;
        let diffs: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
        let (rho, p) = spearman(&y[..39], &diffs).unwrap();
        assert!(close(rho, -0.3464739157244708, 1e-9), "{rho}");
        assert!(close(p, 0.03071414631134538, 1e-6), "{p}");
    }

    #[test]
    fn pelt_finds_the_step_and_the_change_of_slope_ruptures_finds() {
        // ruptures 1.1: Pelt(CostLinear, min_size 5).predict(pen = 3·ln 60·0.3²) → [25, 47, 60].
        let y = [
            1.01, 1.428, 1.407, 0.907, 0.991, 0.942, 1.291, 1.123, 1.384, 0.626, 1.67, 1.191,
            1.444, 1.219, 1.166, 1.439, 1.567, 1.279, 1.314, 1.586, 1.139, 0.966, 1.558, 1.259,
            0.904, 4.256, 4.38, 4.182, 4.112, 4.591, 4.869, 4.55, 4.417, 4.775, 4.895, 4.61, 4.883,
            5.053, 4.698, 4.536, 4.904, 4.894, 5.17, 4.475, 4.682, 4.649, 4.7, 5.578, 6.018, 5.958,
            6.916, 7.067, 7.328, 7.581, 8.067, 7.7, 8.604, 8.921, 8.53, 9.484,
        ];
        let x: Vec<f64> = (0..60).map(f64::from).collect();
        let changes = pelt_lines(&x, &y, 0.3, 3.0 * 60f64.ln(), 5);
        let at: Vec<usize> = changes.iter().map(|c| c.index).collect();
        assert_eq!(at, [25, 47]);
        assert!(close(changes[0].step, 3.0, 0.1), "{changes:?}");
        assert!(changes[1].slope_change > 0.2, "{changes:?}");
        // A straight line is one segment, whatever its slope.
        let line: Vec<f64> = x.iter().map(|x| 5.0 + 0.7 * x).collect();
        assert!(pelt_lines(&x, &line, 0.3, 3.0 * 60f64.ln(), 5).is_empty());
    }

    #[test]
    fn a_daily_profile_is_taken_out_only_when_there_is_one() {
        // Hourly points over 6 days (x in days), a daily sine of amplitude 2 over noise 0.3.
        let x: Vec<f64> = (0..144).map(|i| i as f64 / 24.0).collect();
        let noise = |i: usize| ((i * 7919) % 101) as f64 / 101.0 * 0.6 - 0.3;
        let mut y: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, t)| 10.0 + 2.0 * (t * std::f64::consts::TAU).sin() + noise(i))
            .collect();
        let seasonal = remove_period(&x, &mut y, 0.0, 1.0, 24, 0.01).unwrap();
        assert!(
            seasonal.amplitude > 3.5 && seasonal.explained > 0.9,
            "{seasonal:?}"
        );
        let spread = robust_sigma(&y).unwrap();
        assert!(spread < 0.4, "{spread}");
        // Noise alone: no profile.
        let mut flat: Vec<f64> = (0..144).map(|i| 10.0 + noise(i)).collect();
        let before = flat.clone();
        assert_eq!(remove_period(&x, &mut flat, 0.0, 1.0, 24, 0.01), None);
        assert_eq!(flat, before);
        // Less than two periods: not judged.
        let mut short = y[..40].to_vec();
        assert_eq!(
            remove_period(&x[..40], &mut short, 0.0, 1.0, 24, 0.01),
            None
        );
    }

    #[test]
    fn the_load_fit_tells_a_leak_from_growth_that_follows_load() {
        // Load cycles twice a day and grows; memory = 100 + 2·load (+ 0.5 a day for the leak).
        let x: Vec<f64> = (0..300).map(|i| i as f64 / 24.0).collect();
        let load: Vec<f64> = x
            .iter()
            .map(|t| 50.0 + 3.0 * t + 20.0 * (t * 2.0 * std::f64::consts::TAU).sin())
            .collect();
        let noise = |i: usize| ((i * 7919) % 97) as f64 / 97.0 - 0.5;
        let follows: Vec<f64> = (0..300).map(|i| 100.0 + 2.0 * load[i] + noise(i)).collect();
        let fit = huber_load_fit(&x, &load, &follows).unwrap();
        assert!(close(fit.load, 2.0, 0.01), "{fit:?}");
        assert!(fit.time_p() > 0.01, "{fit:?}");
        let leak: Vec<f64> = (0..300).map(|i| follows[i] + 0.5 * x[i]).collect();
        let fit = huber_load_fit(&x, &load, &leak).unwrap();
        assert!(close(fit.time, 0.5, 0.05), "{fit:?}");
        assert!(fit.time_p() < 1e-6, "{fit:?}");
    }

    #[test]
    fn benjamini_hochberg_matches_the_textbook() {
        let p = [0.01, 0.04, 0.03, 0.005];
        let adjusted = benjamini_hochberg(&p);
        let expected = [0.02, 0.04, 0.04, 0.02];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!(close(*a, e, 1e-12), "{adjusted:?}");
        }
    }
}
