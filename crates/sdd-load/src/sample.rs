//! Sampling what a load run created: of the writes (POST, PUT, PATCH) answered 2xx, keep the
//! value of one JSON field (the new resource's ID) from a uniform sample of at most `cap`
//! answers over the whole run (reservoir sampling, Algorithm R), so a verifier can read the
//! resources back afterwards.
//!
//! Cheap by construction: only when the plan asks for samples does a write's answer reach this
//! module at all, and a body is parsed only when its answer wins a place in the reservoir —
//! about `cap · (1 + ln(writes / cap))` bodies in a run, however long it is.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::Value;

use crate::plan::SampleSpec;
use crate::report::{CreatedSample, CreatedSamples};

/// The methods whose 2xx answers are sampled: the ones that create or change a resource.
pub(crate) fn samples_method(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH")
}

/// Where an answer goes in the reservoir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// One of the first `cap` answers: kept.
    Append,
    /// A later answer that replaces the sample at this index.
    Replace(usize),
}

/// The reservoir one run's connections share. Deciding costs an atomic increment and a hash;
/// the lock is taken only for an answer that is kept.
pub(crate) struct Sampler {
    field: String,
    cap: usize,
    seed: u64,
    /// 2xx answers to writes seen so far (the population).
    seen: AtomicU64,
    /// Kept answers that had no value at `field`.
    without_field: AtomicU64,
    samples: Mutex<Vec<CreatedSample>>,
}

impl Sampler {
    pub fn new(spec: &SampleSpec) -> Sampler {
        Sampler::with_seed(spec, RandomState::new().hash_one(0u64))
    }

    fn with_seed(spec: &SampleSpec, seed: u64) -> Sampler {
        Sampler {
            field: spec.field.clone(),
            cap: spec.cap,
            seed,
            seen: AtomicU64::new(0),
            without_field: AtomicU64::new(0),
            samples: Mutex::new(Vec::with_capacity(spec.cap.min(1024))),
        }
    }

    /// Count one 2xx answer to a write; `Some` when it is to be kept (then, and only then, its
    /// body is worth parsing).
    pub fn slot(&self) -> Option<Slot> {
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        let cap = self.cap as u64;
        if n < cap {
            return Some(Slot::Append);
        }
        // Algorithm R: the n-th answer (from 0) replaces a random sample with probability
        // cap / (n + 1).
        let j = splitmix64(self.seed ^ n) % (n + 1);
        (j < cap).then_some(Slot::Replace(j as usize))
    }

    /// Keep the value at the field of `body` (an answer that [`Sampler::slot`] chose).
    pub fn keep(&self, slot: Slot, endpoint: &str, seq: u64, user: Option<usize>, body: &[u8]) {
        let Some(value) = field_value(body, &self.field) else {
            self.without_field.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let sample = CreatedSample {
            endpoint: endpoint.to_string(),
            seq,
            user,
            value,
        };
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        match slot {
            Slot::Replace(j) if j < samples.len() => samples[j] = sample,
            // An earlier answer's place not taken (its body had no value, or its connection
            // has not got there yet): this one takes the next free place.
            _ if samples.len() < self.cap => samples.push(sample),
            _ => {}
        }
    }

    /// What was sampled, in the order the requests were sent (the run is over).
    pub fn report(&self) -> CreatedSamples {
        let mut samples = self
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        samples.sort_by_key(|s| s.seq);
        CreatedSamples {
            field: self.field.clone(),
            writes: self.seen.load(Ordering::Relaxed),
            without_field: self.without_field.load(Ordering::Relaxed),
            samples,
        }
    }
}

/// The value at `path` (`id`, `data.id`, `items.0.id`) of a JSON body, as text: a string as
/// it is, a number or boolean as its JSON text; `None` for anything else.
pub(crate) fn field_value(body: &[u8], path: &str) -> Option<String> {
    let root: Value = serde_json::from_slice(body).ok()?;
    let mut at = &root;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        at = match at {
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            other => other.get(segment)?,
        };
    }
    match at {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(at.to_string()),
        _ => None,
    }
}

/// A well-mixed 64-bit hash (SplitMix64's finaliser): the reservoir's randomness, without a
/// random-number crate.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cap: usize) -> SampleSpec {
        SampleSpec {
            field: "id".into(),
            cap,
        }
    }

    fn offer(s: &Sampler, seq: u64) {
        if let Some(slot) = s.slot() {
            s.keep(
                slot,
                "POST /t",
                seq,
                None,
                format!("{{\"id\": {seq}}}").as_bytes(),
            );
        }
    }

    #[test]
    fn values_are_read_at_a_path_as_text() {
        assert_eq!(field_value(br#"{"id": 7}"#, "id").as_deref(), Some("7"));
        assert_eq!(
            field_value(br#"{"data": {"id": "a b"}}"#, "data.id").as_deref(),
            Some("a b")
        );
        assert_eq!(
            field_value(br#"{"items": [{"id": true}]}"#, "items.0.id").as_deref(),
            Some("true")
        );
        for (body, path) in [
            (&br#"{"id": null}"#[..], "id"),
            (br#"{"id": {"n": 1}}"#, "id"),
            (br#"{"other": 1}"#, "id"),
            (b"created", "id"),
            (br#"[1]"#, "id"),
        ] {
            assert_eq!(field_value(body, path), None, "{path} in {body:?}");
        }
    }

    #[test]
    fn fewer_answers_than_places_are_all_kept() {
        let s = Sampler::with_seed(&spec(10), 1);
        for seq in 0..4 {
            offer(&s, seq);
        }
        // An answer without the field is counted, not kept, and leaves its place free.
        let slot = s.slot().unwrap();
        s.keep(slot, "POST /t", 4, Some(3), b"{}");
        offer(&s, 5);
        let report = s.report();
        assert_eq!((report.writes, report.without_field), (6, 1));
        let kept: Vec<&str> = report.samples.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(kept, ["0", "1", "2", "3", "5"]);
        assert_eq!(report.samples[0].endpoint, "POST /t");
    }

    /// The reservoir holds `cap` answers whatever the run's length, spread over the whole run
    /// (the later writes, where a service that degrades loses data, are not left out), and
    /// only a few bodies are looked at.
    #[test]
    fn a_long_run_keeps_a_uniform_sample_of_cap_answers() {
        let (cap, writes) = (50usize, 100_000u64);
        let mut late = 0;
        let mut parsed = 0u64;
        for seed in 0..20 {
            let s = Sampler::with_seed(&spec(cap), seed);
            for seq in 0..writes {
                if let Some(slot) = s.slot() {
                    parsed += 1;
                    s.keep(
                        slot,
                        "POST /t",
                        seq,
                        None,
                        format!("{{\"id\": {seq}}}").as_bytes(),
                    );
                }
            }
            let report = s.report();
            assert_eq!(report.samples.len(), cap);
            assert_eq!(report.writes, writes);
            late += report
                .samples
                .iter()
                .filter(|s| s.seq >= writes / 2)
                .count();
        }
        // Half the writes are in the second half: about half the samples (500 of 1000).
        assert!(
            (420..=580).contains(&late),
            "{late} of 1000 from the second half"
        );
        // cap · (1 + ln(writes / cap)) ≈ 430 bodies per run, not 100,000.
        assert!(parsed / 20 < 600, "{} bodies parsed per run", parsed / 20);
    }
}
