//! A cache of verified tokens: a token seen before (and not yet expired) skips the HMAC check
//! and the JSON decoding of its header and claims. Every authenticated request looks its token
//! up, so the hit ratio is the share of requests that reuse a token the service already
//! verified.
//!
//! The cache is split into [`SHARDS`] shards by a hash of the token, each holding at most
//! [`SHARD_CAPACITY`] tokens. The planted `cache_decay` fault loses one shard every
//! [`SECONDS_PER_LOST_SHARD`] seconds after the start (up to [`MAX_LOST_SHARDS`]): a lost shard
//! keeps nothing, so every token that hashes there misses. The capacity, and with it the hit
//! ratio, shrinks steadily over minutes whatever the traffic, and nothing else changes: a miss
//! only costs a verification.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::fnv1a;

/// Shards of the cache (each behind its own lock).
pub const SHARDS: usize = 64;
/// Tokens a shard holds; past it, one is evicted for each new one.
pub const SHARD_CAPACITY: usize = 256;
/// The hit ratio the metrics export is over this many most recent lookups.
pub const RECENT_LOOKUPS: usize = 1000;
/// Under `cache_decay`: one more shard is lost each time this many seconds pass ...
pub const SECONDS_PER_LOST_SHARD: f64 = 7.5;
/// ... until this many of the [`SHARDS`] are (after 6 minutes): the hit ratio then stays near
/// a quarter of what it was, so a long run keeps a service that still answers.
pub const MAX_LOST_SHARDS: usize = 48;

/// What a verified token stands for.
#[derive(Debug, Clone)]
struct Verified {
    user: String,
    /// Its `exp` claim: past it, the entry is dropped and the token verified (and refused) anew.
    expires_at: i64,
}

/// The cache's counts: every lookup since the start, and the hit ratio of the recent ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Hits among the last [`RECENT_LOOKUPS`] lookups (fewer at the start); `None` before any.
    pub recent_hit_ratio: Option<f64>,
}

#[derive(Debug, Default)]
struct Recent {
    /// Whether each of the most recent lookups hit, oldest first.
    lookups: VecDeque<bool>,
    hits: usize,
}

#[derive(Debug)]
pub struct TokenCache {
    shards: Vec<Mutex<HashMap<String, Verified>>>,
    /// `Some` under the `cache_decay` fault: the clock its shards are lost by.
    decay: Option<DecayClock>,
    hits: AtomicU64,
    misses: AtomicU64,
    recent: Mutex<Recent>,
}

/// Time since the start, plus what tests pretend has passed (minutes cannot be waited for).
#[derive(Debug)]
struct DecayClock {
    started: Instant,
    pretended: Mutex<Duration>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here is left half-updated by a panic: a poisoned lock is still usable.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl TokenCache {
    /// An empty cache; `decays`: the planted `cache_decay` fault, counted from now.
    pub fn new(decays: bool) -> TokenCache {
        TokenCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            decay: decays.then(|| DecayClock {
                started: Instant::now(),
                pretended: Mutex::new(Duration::ZERO),
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            recent: Mutex::default(),
        }
    }

    /// Under `cache_decay`, move the fault's clock on by `by` (for tests).
    pub fn pretend_elapsed(&self, by: Duration) {
        if let Some(clock) = &self.decay {
            *lock(&clock.pretended) += by;
        }
    }

    /// Shards lost to the `cache_decay` fault so far (0 without it).
    pub fn lost_shards(&self) -> usize {
        let Some(clock) = &self.decay else {
            return 0;
        };
        let elapsed = clock.started.elapsed() + *lock(&clock.pretended);
        let lost = (elapsed.as_secs_f64() / SECONDS_PER_LOST_SHARD) as usize;
        lost.min(MAX_LOST_SHARDS)
    }

    /// The shard of `token`, or `None` when the fault has lost it.
    fn shard(&self, token: &str) -> Option<&Mutex<HashMap<String, Verified>>> {
        // FNV-1a: the same shard in every process.
        let index = (fnv1a(token.as_bytes()) % SHARDS as u64) as usize;
        // The shards are lost from the first: the lowest indexes go first.
        (index >= self.lost_shards()).then(|| &self.shards[index])
    }

    /// The user of a token verified before and not expired at `now` (Unix seconds); a miss
    /// otherwise. Counted either way.
    pub fn user(&self, token: &str, now: i64) -> Option<String> {
        let user = self.shard(token).and_then(|shard| {
            let mut shard = lock(shard);
            match shard.get(token) {
                Some(entry) if entry.expires_at > now => Some(entry.user.clone()),
                Some(_) => {
                    shard.remove(token);
                    None
                }
                None => None,
            }
        });
        self.count(user.is_some());
        user
    }

    /// Keep a token just verified: `user` is its subject, `expires_at` its `exp`.
    pub fn remember(&self, token: &str, user: &str, expires_at: i64) {
        let Some(shard) = self.shard(token) else {
            return;
        };
        let mut shard = lock(shard);
        if shard.len() >= SHARD_CAPACITY && !shard.contains_key(token) {
            // Any one goes: the tokens in use fit many times over, so which is rarely matters.
            if let Some(evicted) = shard.keys().next().cloned() {
                shard.remove(&evicted);
            }
        }
        let verified = Verified {
            user: user.to_string(),
            expires_at,
        };
        shard.insert(token.to_string(), verified);
    }

    fn count(&self, hit: bool) {
        let total = if hit { &self.hits } else { &self.misses };
        total.fetch_add(1, Ordering::Relaxed);
        let mut recent = lock(&self.recent);
        recent.lookups.push_back(hit);
        recent.hits += usize::from(hit);
        if recent.lookups.len() > RECENT_LOOKUPS {
            let oldest = recent.lookups.pop_front();
            recent.hits -= usize::from(oldest == Some(true));
        }
    }

    pub fn stats(&self) -> CacheStats {
        let recent = lock(&self.recent);
        let recent_hit_ratio =
            (!recent.lookups.is_empty()).then(|| recent.hits as f64 / recent.lookups.len() as f64);
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            recent_hit_ratio,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens of `users` users, each looked up once (remembered on a miss, as the service does).
    fn round(cache: &TokenCache, users: usize) {
        for n in 0..users {
            let token = format!("token-of-user-{n}");
            if cache.user(&token, 100).is_none() {
                cache.remember(&token, &format!("user-{n}"), 200);
            }
        }
    }

    #[test]
    fn a_remembered_token_hits_until_it_expires() {
        let cache = TokenCache::new(false);
        assert_eq!(cache.user("t", 100), None);
        cache.remember("t", "ada", 150);
        assert_eq!(cache.user("t", 149).as_deref(), Some("ada"));
        assert_eq!(cache.user("t", 150), None, "expired at its exp");
        assert_eq!(cache.user("t", 100), None, "and dropped");
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 3));
        assert_eq!(stats.recent_hit_ratio, Some(0.25));
    }

    #[test]
    fn the_ratio_is_over_the_recent_lookups_only() {
        let cache = TokenCache::new(false);
        assert_eq!(cache.stats().recent_hit_ratio, None);
        round(&cache, RECENT_LOOKUPS);
        assert_eq!(cache.stats().recent_hit_ratio, Some(0.0));
        round(&cache, RECENT_LOOKUPS);
        let stats = cache.stats();
        assert_eq!(stats.recent_hit_ratio, Some(1.0));
        assert_eq!((stats.hits, stats.misses), (1000, 1000));
    }

    #[test]
    fn a_full_shard_evicts_one_token_for_each_new_one() {
        let cache = TokenCache::new(false);
        round(&cache, SHARDS * SHARD_CAPACITY * 2);
        let held: usize = cache.shards.iter().map(|s| lock(s).len()).sum();
        assert!(held <= SHARDS * SHARD_CAPACITY, "{held}");
        assert!(held > SHARDS * SHARD_CAPACITY * 9 / 10, "{held}");
    }

    #[test]
    fn healthy_the_ratio_stays_put_as_time_passes() {
        let cache = TokenCache::new(false);
        round(&cache, 500);
        for _minute in 0..10 {
            cache.pretend_elapsed(Duration::from_secs(60));
            // A window's worth of lookups (1,000), every one of a token kept before.
            round(&cache, 500);
            round(&cache, 500);
            assert_eq!(cache.stats().recent_hit_ratio, Some(1.0));
            assert_eq!(cache.lost_shards(), 0);
        }
    }

    #[test]
    fn cache_decay_loses_shards_and_the_ratio_declines_steadily() {
        let cache = TokenCache::new(true);
        round(&cache, 1000);
        let mut ratios = Vec::new();
        for _half_minute in 0..8 {
            round(&cache, 1000);
            ratios.push(cache.stats().recent_hit_ratio.unwrap());
            cache.pretend_elapsed(Duration::from_secs(30));
        }
        // 4 shards lost every 30 s: 1/16 of the tokens a step, from all of them to half.
        assert!(ratios[0] > 0.99, "{ratios:?}");
        assert!(ratios.windows(2).all(|w| w[1] < w[0]), "{ratios:?}");
        let last = ratios[7];
        assert!((0.5..0.65).contains(&last), "{ratios:?}");
        assert_eq!(cache.lost_shards(), 32);
        // The floor: a quarter of the shards keep working however long it runs.
        cache.pretend_elapsed(Duration::from_secs(3600));
        assert_eq!(cache.lost_shards(), MAX_LOST_SHARDS);
        round(&cache, 1000);
        round(&cache, 1000);
        let floor = cache.stats().recent_hit_ratio.unwrap();
        assert!((0.15..0.35).contains(&floor), "{floor}");
    }
}
