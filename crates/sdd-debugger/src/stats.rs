//! The statistics behind every claim the debugger makes: change points in binned series, the
//! two-proportion test (BubbleUp's over-representation), and robust shifts between windows.
//!
//! Pure functions on numbers, table-tested. Every test returns its p-value so a caller can
//! correct for the number of comparisons it made (Bonferroni: the callers multiply by the count
//! of tests they ran; conservative, and simple to state in an answer).

use serde::{Deserialize, Serialize};

/// The upper tail of the standard normal distribution, P(Z > z).
///
/// Through `erfc` (Numerical Recipes' Chebyshev fit, fractional error under 1.2e-7), exact
/// enough for p-values that are reported to two significant digits.
pub fn normal_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The upper tail of the chi-square distribution with one degree of freedom.
pub fn chi2_1_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    2.0 * normal_sf(x.sqrt())
}

/// The pooled two-proportion z-test of `x1/n1` against `x2/n2`, one-sided: is the first
/// proportion larger?
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProportionTest {
    pub p1: f64,
    pub p2: f64,
    /// `p1 - p2`.
    pub difference: f64,
    pub z: f64,
    /// One-sided, uncorrected.
    pub p_value: f64,
}

pub fn two_proportion_test(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<ProportionTest> {
    if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let p1 = x1 as f64 / n1f;
    let p2 = x2 as f64 / n2f;
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f);
    let difference = p1 - p2;
    let (z, p_value) = if variance <= 0.0 {
        // Both all-or-nothing and equal: no difference to test.
        (0.0, 1.0)
    } else {
        let z = difference / variance.sqrt();
        (z, normal_sf(z))
    };
    Some(ProportionTest {
        p1,
        p2,
        difference,
        z,
        p_value,
    })
}

/// Where a binned series changes level, and how sure that is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChangePoint {
    /// The first bin of the new level.
    pub index: usize,
    /// The level before and after (a proportion, a rate per bin, or a median).
    pub before: f64,
    pub after: f64,
    /// The test statistic (twice the log-likelihood ratio, or a rank z-score).
    pub statistic: f64,
    /// Corrected for the number of splits tried (Bonferroni), so a change point is claimed
    /// only when the best of all splits beats what noise gives among that many.
    pub p_value: f64,
}

/// The fewest bins either side of a split: a level is not judged from one bin.
pub const MIN_SEGMENT: usize = 2;

fn binomial_ll(bad: f64, total: f64) -> f64 {
    if total <= 0.0 {
        return 0.0;
    }
    let p = bad / total;
    let mut ll = 0.0;
    if bad > 0.0 {
        ll += bad * p.ln();
    }
    if total - bad > 0.0 {
        ll += (total - bad) * (1.0 - p).ln();
    }
    ll
}

/// The single most likely change in a proportion over bins of `(bad, total)`, by the binomial
/// log-likelihood ratio of two levels against one (the first step of binary segmentation).
pub fn proportion_change_point(bins: &[(u64, u64)]) -> Option<ChangePoint> {
    let n = bins.len();
    if n < 2 * MIN_SEGMENT {
        return None;
    }
    let (all_bad, all_total) = bins
        .iter()
        .fold((0.0, 0.0), |(b, t), &(x, m)| (b + x as f64, t + m as f64));
    if all_total == 0.0 {
        return None;
    }
    let whole = binomial_ll(all_bad, all_total);
    let mut best: Option<(usize, f64, f64, f64)> = None;
    let (mut bad, mut total) = (0.0, 0.0);
    for k in 1..n {
        bad += bins[k - 1].0 as f64;
        total += bins[k - 1].1 as f64;
        if k < MIN_SEGMENT || n - k < MIN_SEGMENT || total == 0.0 || total == all_total {
            continue;
        }
        let statistic =
            2.0 * (binomial_ll(bad, total) + binomial_ll(all_bad - bad, all_total - total) - whole);
        if best.is_none_or(|(_, s, _, _)| statistic > s) {
            best = Some((
                k,
                statistic,
                bad / total,
                (all_bad - bad) / (all_total - total),
            ));
        }
    }
    let (index, statistic, before, after) = best?;
    let tried = (n + 1).saturating_sub(2 * MIN_SEGMENT).max(1) as f64;
    Some(ChangePoint {
        index,
        before,
        after,
        statistic,
        p_value: (chi2_1_sf(statistic) * tried).min(1.0),
    })
}

fn poisson_ll(count: f64, bins: f64) -> f64 {
    if count <= 0.0 || bins <= 0.0 {
        return 0.0;
    }
    count * (count / bins).ln() - count
}

/// The single most likely change in a count per bin (a rate), by the Poisson log-likelihood
/// ratio. `before`/`after` are counts per bin.
pub fn count_change_point(counts: &[u64]) -> Option<ChangePoint> {
    let n = counts.len();
    if n < 2 * MIN_SEGMENT {
        return None;
    }
    let all: f64 = counts.iter().map(|&c| c as f64).sum();
    let whole = poisson_ll(all, n as f64);
    let mut best: Option<(usize, f64, f64, f64)> = None;
    let mut left = 0.0;
    for k in 1..n {
        left += counts[k - 1] as f64;
        if k < MIN_SEGMENT || n - k < MIN_SEGMENT {
            continue;
        }
        let (a, b) = (k as f64, (n - k) as f64);
        let statistic = 2.0 * (poisson_ll(left, a) + poisson_ll(all - left, b) - whole);
        if best.is_none_or(|(_, s, _, _)| statistic > s) {
            best = Some((k, statistic, left / a, (all - left) / b));
        }
    }
    let (index, statistic, before, after) = best?;
    let tried = (n + 1).saturating_sub(2 * MIN_SEGMENT).max(1) as f64;
    Some(ChangePoint {
        index,
        before,
        after,
        statistic,
        p_value: (chi2_1_sf(statistic) * tried).min(1.0),
    })
}

/// Average ranks (ties share their mean rank), 1-based, and the tie correction term
/// `Σ (t³ − t)` of the Mann–Whitney variance.
fn ranks(values: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            ranks[o] = rank;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    (ranks, ties)
}

/// The Mann–Whitney z-score of the second sample being larger, from the first sample's rank
/// sum, with the tie correction.
fn mann_whitney_z(rank_sum_first: f64, n1: f64, n2: f64, ties: f64) -> f64 {
    let n = n1 + n2;
    let u1 = rank_sum_first - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 0.0;
    }
    // U1 small = the first sample ranks low = the second is larger.
    (mean - u1) / variance.sqrt()
}

/// The single most likely change in level of a series (medians per bin, say), by the rank sum
/// of the split that separates it best: robust to outliers and skew. `before`/`after` are the
/// medians either side; the statistic is the Mann–Whitney z (positive: the level rose).
pub fn level_change_point(values: &[f64]) -> Option<ChangePoint> {
    let n = values.len();
    if n < 2 * MIN_SEGMENT || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let (ranked, ties) = ranks(values);
    let mut best: Option<(usize, f64)> = None;
    let mut sum = 0.0;
    for k in 1..n {
        sum += ranked[k - 1];
        if k < MIN_SEGMENT || n - k < MIN_SEGMENT {
            continue;
        }
        let z = mann_whitney_z(sum, k as f64, (n - k) as f64, ties);
        if best.is_none_or(|(_, b)| z.abs() > b.abs()) {
            best = Some((k, z));
        }
    }
    let (index, z) = best?;
    let tried = (n + 1).saturating_sub(2 * MIN_SEGMENT).max(1) as f64;
    Some(ChangePoint {
        index,
        before: median(&values[..index]).unwrap_or(f64::NAN),
        after: median(&values[index..]).unwrap_or(f64::NAN),
        statistic: z,
        p_value: (2.0 * normal_sf(z.abs()) * tried).min(1.0),
    })
}

pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// The `q` quantile by linear interpolation between closest ranks (NumPy's default).
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let at = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let low = at.floor() as usize;
    let high = at.ceil() as usize;
    let (a, b) = (sorted.get(low)?, sorted.get(high)?);
    Some(a + (b - a) * (at - low as f64))
}

/// How far the current window's values moved from the baseline's, robustly: the difference
/// of medians over the baseline's scale (MAD × 1.4826, the normal-consistent scale), and the
/// Mann–Whitney test of the two samples for significance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    pub baseline_median: f64,
    pub current_median: f64,
    /// The scale the score divides by.
    pub scale: f64,
    /// `(current_median − baseline_median) / scale`: a robust z-score.
    pub score: f64,
    /// Two-sided Mann–Whitney p-value, uncorrected.
    pub p_value: f64,
    pub baseline_count: usize,
    pub current_count: usize,
}

/// A floor under the scale: a share of the baseline's median (a flat series that moves a
/// little is not an infinite shift) and an absolute minimum.
const RELATIVE_SCALE_FLOOR: f64 = 0.05;

pub fn robust_shift(baseline: &[f64], current: &[f64]) -> Option<Shift> {
    let base: Vec<f64> = baseline.iter().copied().filter(|v| v.is_finite()).collect();
    let cur: Vec<f64> = current.iter().copied().filter(|v| v.is_finite()).collect();
    if base.len() < 2 || cur.is_empty() {
        return None;
    }
    let baseline_median = median(&base)?;
    let current_median = median(&cur)?;
    let deviations: Vec<f64> = base.iter().map(|v| (v - baseline_median).abs()).collect();
    let mad = median(&deviations)? * 1.4826;
    let scale = mad
        .max(RELATIVE_SCALE_FLOOR * baseline_median.abs())
        .max(1e-9);
    let mut joined = base.clone();
    joined.extend_from_slice(&cur);
    let (ranked, ties) = ranks(&joined);
    let sum: f64 = ranked[..base.len()].iter().sum();
    let z = mann_whitney_z(sum, base.len() as f64, cur.len() as f64, ties);
    Some(Shift {
        baseline_median,
        current_median,
        scale,
        score: (current_median - baseline_median) / scale,
        p_value: (2.0 * normal_sf(z.abs())).min(1.0),
        baseline_count: base.len(),
        current_count: cur.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn the_normal_tail_matches_tables() {
        // scipy.stats.norm.sf
        let cases = [
            (0.0, 0.5),
            (1.0, 0.158_655_25),
            (1.959_964, 0.025),
            (3.0, 0.001_349_898),
            (-1.0, 0.841_344_75),
            (6.0, 9.865_876e-10),
        ];
        for (z, want) in cases {
            let got = normal_sf(z);
            assert!(
                close(got, want, want * 1e-5 + 1e-12),
                "sf({z}) = {got}, want {want}"
            );
        }
        assert!(close(chi2_1_sf(3.841_459), 0.05, 1e-6));
        assert_eq!(chi2_1_sf(0.0), 1.0);
    }

    #[test]
    fn two_proportions_are_tested_one_sided_and_refuse_impossible_counts() {
        // 30 of 100 against 10 of 100: z = 0.2 / sqrt(0.2·0.8·0.02) = 3.5355
        let t = two_proportion_test(30, 100, 10, 100).unwrap();
        assert!(close(t.z, 3.535_534, 1e-5), "{t:?}");
        assert!(close(t.p_value, 2.035e-4, 1e-6), "{t:?}");
        let reversed = two_proportion_test(10, 100, 30, 100).unwrap();
        assert!(reversed.p_value > 0.99);
        assert_eq!(two_proportion_test(0, 10, 0, 10).unwrap().p_value, 1.0);
        assert_eq!(two_proportion_test(1, 0, 1, 1), None);
        assert_eq!(two_proportion_test(5, 4, 1, 10), None);
    }

    #[test]
    fn a_proportion_change_point_is_found_where_it_is_and_not_in_noise() {
        // 20 bins at 1 % of 200, then 10 at 12 %.
        let mut bins = vec![(2, 200); 20];
        bins.extend(vec![(24, 200); 10]);
        let c = proportion_change_point(&bins).unwrap();
        assert_eq!(c.index, 20);
        assert!(close(c.before, 0.01, 1e-9) && close(c.after, 0.12, 1e-9));
        assert!(c.p_value < 1e-20, "{c:?}");
        // Steady 1 % with binomial-looking jitter: nothing to claim.
        let steady: Vec<(u64, u64)> = [2, 1, 3, 2, 2, 4, 1, 2, 3, 2, 1, 2, 2, 3, 2, 1, 2, 3, 2, 2]
            .iter()
            .map(|&x| (x, 200))
            .collect();
        let c = proportion_change_point(&steady).unwrap();
        assert!(c.p_value > 0.05, "{c:?}");
        // Too short, or nothing at all.
        assert_eq!(proportion_change_point(&[(1, 2), (1, 2), (1, 2)]), None);
        assert_eq!(proportion_change_point(&[(0, 0); 10]), None);
    }

    #[test]
    fn a_rate_change_point_finds_a_spike_and_not_steady_traffic() {
        let mut counts = vec![100; 30];
        counts.extend(vec![400; 10]);
        let c = count_change_point(&counts).unwrap();
        assert_eq!(c.index, 30);
        assert!(close(c.before, 100.0, 1e-9) && close(c.after, 400.0, 1e-9));
        assert!(c.p_value < 1e-50);
        let steady = [98, 103, 101, 97, 100, 104, 99, 96, 102, 100, 101, 99];
        assert!(count_change_point(&steady).unwrap().p_value > 0.05);
        assert_eq!(count_change_point(&[0; 12]).unwrap().statistic, 0.0);
    }

    #[test]
    fn a_level_change_point_is_robust_to_one_outlier() {
        let mut values = vec![1.0, 1.2, 0.9, 1.1, 1.0, 50.0, 1.05, 0.95, 1.1, 1.0];
        values.extend([1.1, 0.9, 1.0, 1.15, 0.85, 1.0, 1.05, 0.95, 1.0, 1.1]);
        values.extend([121.0, 120.5, 122.0, 119.8, 121.2, 120.9, 121.1, 120.7]);
        let c = level_change_point(&values).unwrap();
        assert_eq!(c.index, 20);
        assert!(c.statistic > 0.0 && c.p_value < 0.01, "{c:?}");
        assert!(close(c.after, 121.0, 0.5));
        let flat = [1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 1.02, 0.98, 1.0];
        assert!(level_change_point(&flat).unwrap().p_value > 0.05);
        assert_eq!(level_change_point(&[1.0, f64::NAN, 1.0, 1.0]), None);
    }

    #[test]
    fn robust_shifts_score_real_moves_and_not_a_flat_series_wiggling() {
        let base = [10.0, 11.0, 9.0, 10.5, 9.5, 10.0, 10.2, 9.8];
        let s = robust_shift(&base, &[20.0, 21.0, 19.5, 20.5]).unwrap();
        assert!(s.score > 10.0 && s.p_value < 0.01, "{s:?}");
        let s = robust_shift(&base, &[10.1, 9.9, 10.0]).unwrap();
        assert!(s.score.abs() < 1.0 && s.p_value > 0.05, "{s:?}");
        // A flat baseline: the 5 % floor keeps a 1 % move small.
        let s = robust_shift(&[100.0; 6], &[101.0; 6]).unwrap();
        assert!(close(s.score, 0.2, 1e-9), "{s:?}");
        assert_eq!(robust_shift(&[1.0], &[2.0]), None);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(median(&v), Some(2.5));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 1.0), Some(4.0));
        assert!(close(quantile(&v, 0.9).unwrap(), 3.7, 1e-12));
        assert_eq!(median(&[]), None);
    }
}
