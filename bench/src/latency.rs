//! A latency histogram that generator processes fill and the parent merges: 10 µs buckets up
//! to 100 ms, then 1 ms buckets up to 10 s, then one bucket for anything slower.

use serde_json::Value;

/// Buckets of 10 µs below this many microseconds.
const FINE_LIMIT: u64 = 100_000;
/// Buckets of 1 ms below this many microseconds.
const COARSE_LIMIT: u64 = 10_000_000;
const FINE_BUCKETS: usize = (FINE_LIMIT / 10) as usize;
const BUCKETS: usize = FINE_BUCKETS + ((COARSE_LIMIT - FINE_LIMIT) / 1000) as usize + 1;

/// Counts of latencies per bucket.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
        }
    }
}

impl Histogram {
    /// Counts one latency, in microseconds.
    pub fn record(&mut self, micros: u64) {
        let bucket = if micros < FINE_LIMIT {
            (micros / 10) as usize
        } else if micros < COARSE_LIMIT {
            FINE_BUCKETS + ((micros - FINE_LIMIT) / 1000) as usize
        } else {
            BUCKETS - 1
        };
        self.counts[bucket] += 1;
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
    }

    /// How many latencies were counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The latency below which a share `p` (0 to 1) of the counts fall, in milliseconds
    /// (the lower bound of its bucket; 0 when empty).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return 0.0;
        }
        let rank = ((total as f64 * p).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let micros = if bucket < FINE_BUCKETS {
                    bucket as u64 * 10
                } else {
                    FINE_LIMIT + (bucket - FINE_BUCKETS) as u64 * 1000
                };
                return micros as f64 / 1000.0;
            }
        }
        0.0
    }

    /// The non-empty buckets as `[[bucket, count], ...]`.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.counts
                .iter()
                .enumerate()
                .filter(|(_, count)| **count > 0)
                .map(|(bucket, count)| serde_json::json!([bucket, count]))
                .collect(),
        )
    }

    /// Reads what `to_json` wrote.
    pub fn from_json(value: &Value) -> Result<Histogram, String> {
        let mut histogram = Histogram::default();
        for pair in value.as_array().ok_or("a histogram is an array")? {
            let bucket = pair[0].as_u64().ok_or("bad histogram bucket")? as usize;
            let count = pair[1].as_u64().ok_or("bad histogram count")?;
            *histogram
                .counts
                .get_mut(bucket)
                .ok_or("histogram bucket out of range")? += count;
        }
        Ok(histogram)
    }
}
