//! Latency, size and queue-length histograms: Dynomite's port of Cassandra's `EstimatedHistogram`.
//!
//! 94 buckets whose bounds are 1, 2, 3, ... each the next `max(prev + 1, floor(prev × 1.2))`,
//! ending at 36157192 ([`BOUNDS`]). Recording is a binary search over that fixed table and
//! one increment: no allocation, no floating point.
//!
//! Semantics (and where they differ from Dynomite C, `src/dyn_histogram.c`):
//! - A value `v` lands in the first bucket whose bound is `>= v` (Cassandra's rule), so bucket
//!   `i` holds `(BOUNDS[i-1], BOUNDS[i]]` and the cumulative count up to bucket `i` is exactly
//!   the number of values `<= BOUNDS[i]`: a true Prometheus `le` bucket. Values above the last
//!   bound are kept in the last bucket (the overflow bucket). Dynomite's binary search puts a
//!   value in the bucket whose bound is `<= v`, so its percentiles are lower bounds; ours are
//!   upper bounds, clamped to the exact maximum so a percentile never exceeds `max`.
//! - Dynomite stops computing percentiles once the overflow bucket is non-zero ("histogram
//!   overflowed!") and keeps stale numbers until the next reset; we keep computing.
//! - Percentile `p` is the bound of the first bucket where the cumulative count reaches
//!   `floor(count × p)` (at least 1); an empty histogram reports 0 (Dynomite reports the first
//!   bound, 1, for the percentiles of an empty histogram).
//! - The mean is exact, `ceil(sum / count)`, from the recorded sum (Dynomite approximates it from
//!   the bucket bounds).

/// Number of buckets, the last one being the overflow bucket.
pub const BUCKETS: usize = 94;

/// The bucket bounds: 1, 2, 3, ... each `max(prev + 1, floor(prev × 1.2))`, up to 36157192.
pub const BOUNDS: [u64; BUCKETS] = bounds();

const fn bounds() -> [u64; BUCKETS] {
    let mut b = [0u64; BUCKETS];
    b[0] = 1;
    let mut i = 1;
    while i < BUCKETS {
        // floor(prev * 1.2) computed exactly in integers (= floor(prev * 6 / 5)).
        let next = b[i - 1] * 6 / 5;
        b[i] = if next == b[i - 1] { next + 1 } else { next };
        i += 1;
    }
    b
}

/// The numbers `/info` reports for one histogram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HistogramSummary {
    pub max: u64,
    pub p999: u64,
    pub p99: u64,
    pub p95: u64,
    pub mean: u64,
}

/// A fixed-size estimated histogram of `u64` observations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    counts: [u64; BUCKETS],
    count: u64,
    sum: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub const fn new() -> Self {
        Histogram {
            counts: [0; BUCKETS],
            count: 0,
            sum: 0,
            max: 0,
        }
    }

    /// The bucket a value is counted in: the first whose bound is `>= v`, or the last one.
    #[inline]
    pub fn bucket_index(v: u64) -> usize {
        BOUNDS.partition_point(|&b| b < v).min(BUCKETS - 1)
    }

    /// Records one observation.
    #[inline]
    pub fn record(&mut self, v: u64) {
        let i = Self::bucket_index(v);
        self.counts[i] = self.counts[i].wrapping_add(1);
        self.count = self.count.wrapping_add(1);
        self.sum = self.sum.saturating_add(v);
        if v > self.max {
            self.max = v;
        }
    }

    /// Forgets every observation (`/historeset`, and Dynomite's 5-minute reset).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Adds another histogram's observations to this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (c, o) in self.counts.iter_mut().zip(other.counts.iter()) {
            *c = c.wrapping_add(*o);
        }
        self.count = self.count.wrapping_add(other.count);
        self.sum = self.sum.saturating_add(other.sum);
        self.max = self.max.max(other.max);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the observations (saturating).
    pub fn sum(&self) -> u64 {
        self.sum
    }

    /// The largest observation (exact), 0 when empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// `ceil(sum / count)`, 0 when empty.
    pub fn mean(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.sum.div_ceil(self.count)
        }
    }

    /// The per-bucket counts, in the order of [`BOUNDS`].
    pub fn counts(&self) -> &[u64; BUCKETS] {
        &self.counts
    }

    /// The bucket bounds (the same for every histogram).
    pub fn bounds() -> &'static [u64; BUCKETS] {
        &BOUNDS
    }

    /// How many observations the `p`-quantile must cover: `floor(count × p)`, at least 1.
    fn target(&self, p: f64) -> u64 {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        // `as` saturates; count × p <= count, so the product fits.
        ((self.count as f64 * p).floor() as u64).clamp(1, self.count.max(1))
    }

    /// The bound of the first bucket where the cumulative count reaches `floor(count × p)`
    /// (at least one observation), never above [`Histogram::max`]; 0 when empty. `p` is a
    /// fraction (0.99 for the 99th percentile) and is clamped to `0.0..=1.0`.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let target = self.target(p);
        let mut cum = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            cum = cum.wrapping_add(c);
            if cum >= target {
                return BOUNDS[i].min(self.max);
            }
        }
        self.max
    }

    /// max, 99.9th, 99th, 95th percentiles and mean in one pass.
    pub fn summary(&self) -> HistogramSummary {
        if self.count == 0 {
            return HistogramSummary::default();
        }
        let targets = [self.target(0.999), self.target(0.99), self.target(0.95)];
        let mut found = [None::<u64>; 3];
        let mut cum = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            cum = cum.wrapping_add(c);
            for (f, &t) in found.iter_mut().zip(targets.iter()) {
                if f.is_none() && cum >= t {
                    *f = Some(BOUNDS[i].min(self.max));
                }
            }
            if found[0].is_some() {
                break;
            }
        }
        let get = |f: Option<u64>| f.unwrap_or(self.max);
        HistogramSummary {
            max: self.max,
            p999: get(found[0]),
            p99: get(found[1]),
            p95: get(found[2]),
            mean: self.mean(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_follow_the_rule_and_end_at_36157192() {
        assert_eq!(BOUNDS.len(), 94);
        assert_eq!(BOUNDS[0], 1);
        assert_eq!(BOUNDS[93], 36_157_192);
        // Dynomite computes the next bound with a double: floor(last * 1.2), or last + 1.
        let mut last = 1u64;
        for &b in &BOUNDS[1..] {
            let mut next = (last as f64 * 1.2).floor() as u64;
            if next == last {
                next += 1;
            }
            assert_eq!(b, next);
            last = next;
        }
        assert_eq!(
            &BOUNDS[..26],
            &[
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 19, 22, 26, 31, 37, 44, 52, 62, 74, 88,
                105, 126, 151
            ]
        );
    }

    #[test]
    fn values_land_in_the_first_bucket_whose_bound_is_not_smaller() {
        assert_eq!(Histogram::bucket_index(0), 0);
        assert_eq!(Histogram::bucket_index(1), 0);
        assert_eq!(Histogram::bucket_index(2), 1);
        assert_eq!(Histogram::bucket_index(10), 9);
        assert_eq!(Histogram::bucket_index(11), 10); // bound 12
        assert_eq!(Histogram::bucket_index(12), 10);
        assert_eq!(Histogram::bucket_index(13), 11);
        assert_eq!(Histogram::bucket_index(36_157_192), 93);
        assert_eq!(Histogram::bucket_index(36_157_193), 93);
        assert_eq!(Histogram::bucket_index(u64::MAX), 93);
        for (i, &b) in BOUNDS.iter().enumerate() {
            assert_eq!(Histogram::bucket_index(b), i);
            if i > 0 {
                assert_eq!(Histogram::bucket_index(BOUNDS[i - 1] + 1), i);
            }
        }
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        let h = Histogram::new();
        assert_eq!(h.count(), 0);
        assert_eq!(h.percentile(0.99), 0);
        assert_eq!(h.mean(), 0);
        assert_eq!(h.max(), 0);
        assert_eq!(h.summary(), HistogramSummary::default());
    }

    #[test]
    fn percentiles_with_known_inputs() {
        let mut h = Histogram::new();
        for v in 1..=100u64 {
            h.record(v);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.sum(), 5050);
        assert_eq!(h.max(), 100);
        assert_eq!(h.mean(), 51); // ceil(50.5)
                                  // 50th: 50 values reached at bound 52 (values 45..=52 share that bucket).
        assert_eq!(h.percentile(0.5), 52);
        // 95th: 95 values reached in the bucket (88, 105], clamped to the max, 100.
        assert_eq!(h.percentile(0.95), 100);
        assert_eq!(h.percentile(0.10), 10);
        assert_eq!(h.percentile(0.0), 1);
        assert_eq!(h.percentile(f64::NAN), 1);
        assert_eq!(h.percentile(2.0), 100);
        let s = h.summary();
        assert_eq!(
            s,
            HistogramSummary {
                max: 100,
                p999: 100,
                p99: 100,
                p95: 100,
                mean: 51
            }
        );
    }

    #[test]
    fn percentile_is_first_bound_reaching_floor_count_times_p() {
        let mut h = Histogram::new();
        // 900 fast values (bucket 10), 90 medium (bucket 1000 -> bound 1111), 10 slow (50000).
        for _ in 0..900 {
            h.record(10);
        }
        for _ in 0..90 {
            h.record(1000);
        }
        for _ in 0..10 {
            h.record(50_000);
        }
        assert_eq!(h.percentile(0.90), 10); // floor(900) reached in bucket 10
        assert_eq!(h.percentile(0.95), 1111);
        assert_eq!(h.percentile(0.99), 1111); // 990 reached in bucket 1111
        assert_eq!(h.percentile(0.999), 50_000); // bound 51014 clamped to max
        let s = h.summary();
        assert_eq!((s.p95, s.p99, s.p999, s.max), (1111, 1111, 50_000, 50_000));
        assert_eq!(
            s.mean,
            (900 * 10 + 90 * 1000 + 10 * 50_000u64).div_ceil(1000)
        );
    }

    #[test]
    fn single_observation_reports_its_own_bucket() {
        let mut h = Histogram::new();
        h.record(29_000);
        // floor(1 × 0.99) = 0: Dynomite would say 1; we require at least one observation.
        assert_eq!(h.percentile(0.99), 29_000);
        assert_eq!(h.summary().p95, 29_000);
    }

    #[test]
    fn overflow_is_kept_and_summaries_still_computed() {
        let mut h = Histogram::new();
        h.record(5);
        h.record(100_000_000);
        assert_eq!(h.counts()[93], 1);
        assert_eq!(h.max(), 100_000_000);
        assert_eq!(h.percentile(1.0), 36_157_192);
        assert_eq!(h.percentile(0.5), 5);
    }

    #[test]
    fn reset_and_merge() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        a.record(3);
        b.record(7);
        b.record(u64::MAX);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.sum(), u64::MAX);
        assert_eq!(a.max(), u64::MAX);
        assert_eq!(a.counts().iter().sum::<u64>(), 3);
        a.reset();
        assert_eq!(a, Histogram::new());
    }

    #[test]
    fn cumulative_counts_are_le_buckets() {
        let mut h = Histogram::new();
        let values = [0u64, 1, 2, 11, 12, 13, 99, 105, 106, 4000, 36_157_192];
        for &v in &values {
            h.record(v);
        }
        let mut cum = 0;
        for (i, &c) in h.counts().iter().enumerate() {
            cum += c;
            let le = values.iter().filter(|&&v| v <= BOUNDS[i]).count() as u64;
            assert_eq!(cum, le, "bucket {i} bound {}", BOUNDS[i]);
        }
    }
}
