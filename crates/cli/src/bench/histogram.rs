//! A latency histogram cheap enough to record every call: a fixed array of
//! counters, log-bucketed as HdrHistogram buckets, so recording is an index
//! computation and an increment, and nothing is allocated per call.
//!
//! Values below [`SUB`] are counted exactly. Above, each power of two is
//! split into [`SUB`] equal buckets, so a bucket is at most 1/32 of its
//! values wide, and a percentile read back as the bucket's midpoint is
//! within 1.6 % of the true value.

/// Linear sub-buckets per power of two (a power of two itself).
const SUB: u64 = 32;
/// `log2(SUB)`.
const SUB_BITS: u32 = SUB.trailing_zeros();
/// The largest value counted as itself; larger ones count as this. 2^40 µs
/// is twelve days: no answer a bench waits for.
const CAP: u64 = (1 << 40) - 1;
/// Buckets needed for every value up to [`CAP`].
const BUCKETS: usize = index(CAP) + 1;

/// The bucket of `v`.
const fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    // `e` ≥ SUB_BITS: the power of two below `v`; `m` the top
    // SUB_BITS + 1 bits of `v`, in [SUB, 2 * SUB).
    let e = 63 - v.leading_zeros();
    let m = v >> (e - SUB_BITS);
    ((e - SUB_BITS + 1) as u64 * SUB + (m - SUB)) as usize
}

/// The lowest value in bucket `i`, and the bucket's width.
const fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, 1);
    }
    let shift = (i / SUB - 1) as u32;
    ((SUB + i % SUB) << shift, 1 << shift)
}

/// Counts of values (microseconds, for the bench) by bucket, with the exact
/// maximum.
#[derive(Clone, Debug)]
pub(crate) struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            max: 0,
        }
    }
}

impl Histogram {
    /// Counts one value.
    pub(crate) fn record(&mut self, value: u64) {
        let value = value.min(CAP);
        self.counts[index(value)] += 1;
        self.count += 1;
        self.max = self.max.max(value);
    }

    /// Adds another histogram's counts to these.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    /// How many values were counted.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The largest value counted (exact).
    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    /// The value at or below which a fraction `q` (0 to 1) of the values
    /// lie: the midpoint of the bucket the `ceil(q × count)`th value falls
    /// in (so exact below 32), never above the maximum; 0 when empty.
    pub(crate) fn percentile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        // At least the first value, at most the last.
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let (low, width) = bounds(i);
                return (low + width / 2).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_narrow() {
        let mut expected_low = 0;
        for i in 0..BUCKETS {
            let (low, width) = bounds(i);
            assert_eq!(low, expected_low, "bucket {i}");
            assert_eq!(index(low), i);
            assert_eq!(index(low + width - 1), i);
            // At most 1/32 of the values it holds wide.
            assert!(
                width == 1 || width * SUB <= low,
                "bucket {i}: {low} + {width}"
            );
            expected_low = low + width;
        }
        assert_eq!(index(CAP), BUCKETS - 1);
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = Histogram::default();
        for v in 1..=20 {
            h.record(v);
        }
        assert_eq!(h.count(), 20);
        assert_eq!(h.percentile(0.5), 10);
        assert_eq!(h.percentile(0.99), 20);
        assert_eq!(h.percentile(1.0), 20);
        assert_eq!(h.percentile(0.0), 1);
        assert_eq!(h.max(), 20);
    }

    #[test]
    fn large_values_are_within_two_percent() {
        let mut h = Histogram::default();
        for v in 1..=100_000u64 {
            h.record(v);
        }
        for (q, exact) in [(0.5, 50_000.0), (0.99, 99_000.0), (0.999, 99_900.0)] {
            let got = h.percentile(q) as f64;
            assert!(
                (got - exact).abs() / exact < 0.02,
                "p{q}: {got} for {exact}"
            );
        }
        assert_eq!(h.max(), 100_000);
    }

    #[test]
    fn merging_adds_counts_and_keeps_the_max() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        a.record(5);
        b.record(7);
        b.record(u64::MAX);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.max(), CAP);
        assert_eq!(a.percentile(0.5), 7);
        assert_eq!(Histogram::default().percentile(0.5), 0);
    }
}
