//! Login throttling: who may try a password now, and how many password checks run at once.
//!
//! Every attempt is **counted before the password is checked**, under the same lock as the
//! check of the limits, and the count is taken back when the password was right. So fifty
//! wrong passwords sent in parallel are checked at most [`PAIR_LIMIT`] times, not fifty.
//!
//! The limits are keyed so that an attacker elsewhere cannot keep a user out:
//!
//! | key | limit |
//! |---|---|
//! | (user name, address) | [`PAIR_LIMIT`] failures per [`WINDOW_MINUTES`] minutes, then 429 for that pair only |
//! | address | [`ADDRESS_LIMIT`] failures per window (every name), then 429 for that address |
//! | user name | after [`NAME_FREE`] failures in the window, each further attempt from an address that has already failed for the name waits a delay that doubles (1 s, 2 s, 4 s, … at most [`MAX_DELAY_SECS`] s) after the latest attempt; from [`NAME_SWARM`] failures on, addresses without failures wait too (many addresses guessing one name) |
//!
//! A correct password from an address without failures for the name gets in unless the name
//! is under a swarm of [`NAME_SWARM`] failures in the window.
//!
//! The password check itself (argon2, ~20 MiB and tens of milliseconds of CPU each) runs on
//! tokio's blocking threads, at most [`LoginLimiter::slots`] at a time; when every slot is
//! busy, up to [`QUEUE_PER_SLOT`] attempts per slot wait for one (at most [`SLOT_WAIT_MS`] ms,
//! asleep, holding no thread), and any other is answered 503 with `Retry-After` at once,
//! without being counted.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicUsize, Ordering as AtomicOrdering},
    },
};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Failures allowed per (user name, address) within the window.
pub const PAIR_LIMIT: u32 = 5;
/// Failures allowed per address (all names; shared by everyone behind it, e.g. an office NAT).
pub const ADDRESS_LIMIT: u32 = 20;
/// Failures of a name (from anywhere) before its delays start.
pub const NAME_FREE: u32 = 5;
/// Failures of a name (from anywhere) from which addresses without failures wait too.
pub const NAME_SWARM: u32 = 50;
/// Longest delay between two attempts on one name.
pub const MAX_DELAY_SECS: i64 = 15 * 60;
/// How long failures are remembered, and how long a (name, address) or an address stays locked.
pub const WINDOW_MINUTES: i64 = 15;
/// Attempts that may wait for a password-check slot, per slot.
pub const QUEUE_PER_SLOT: usize = 4;
/// Longest wait for a password-check slot, in milliseconds.
pub const SLOT_WAIT_MS: u64 = 2_000;
/// Seconds between two looks for operators' unlocks in the audit trail.
pub const UNLOCK_CHECK_SECS: i64 = 5;
/// Entries kept before expired ones are swept (bounds the memory an attacker can fill).
const SWEEP_AT: usize = 100_000;

/// Why an attempt may not be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A limit is reached; try again after this many seconds (429).
    Locked {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// Every password-check slot is busy; try again after this many seconds (503).
    Busy {
        /// Seconds to wait.
        retry_after: u64,
    },
}

impl Refusal {
    /// Seconds the client should wait (`Retry-After`).
    pub fn retry_after(self) -> u64 {
        match self {
            Refusal::Locked { retry_after } | Refusal::Busy { retry_after } => retry_after,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Count {
    n: u32,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

impl Count {
    fn live(&self, now: DateTime<Utc>) -> bool {
        now < self.first + Duration::minutes(WINDOW_MINUTES)
    }
    fn until(&self) -> DateTime<Utc> {
        self.first + Duration::minutes(WINDOW_MINUTES)
    }
}

#[derive(Debug, Default)]
struct Counts {
    pairs: HashMap<(String, String), Count>,
    addresses: HashMap<String, Count>,
    names: HashMap<String, Count>,
    unlock_polled_at: Option<DateTime<Utc>>,
    unlock_seen_id: Option<i64>,
}

fn bump<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Count>, key: K, now: DateTime<Utc>) -> u32 {
    let c = map.entry(key).or_insert(Count {
        n: 0,
        first: now,
        last: now,
    });
    if !c.live(now) {
        *c = Count {
            n: 0,
            first: now,
            last: now,
        };
    }
    c.n += 1;
    c.last = now;
    c.n
}

fn unbump<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Count>, key: &K) {
    if let Some(c) = map.get_mut(key) {
        c.n = c.n.saturating_sub(1);
        if c.n == 0 {
            map.remove(key);
        }
    }
}

fn secs_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    (until - now).num_seconds().max(1) as u64
}

/// The delay a name imposes after `n` failures: none up to [`NAME_FREE`], then 1 s, 2 s, 4 s, …
pub fn name_delay(n: u32) -> Duration {
    if n < NAME_FREE {
        return Duration::zero();
    }
    let exp = (n - NAME_FREE).min(20);
    Duration::seconds((1i64 << exp).min(MAX_DELAY_SECS))
}

/// The key of an address: an IPv6 address counts by its /64 (one subscriber's whole prefix).
pub fn address_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        _ => address.to_string(),
    }
}

/// An attempt that has been counted; settle it with [`Attempt::succeeded`] or [`Attempt::failed`].
/// Dropping it unsettled (an error, a cancelled request) leaves it counted as a failure.
#[derive(Debug)]
pub struct Attempt {
    limiter: Arc<LoginLimiter>,
    name: String,
    address: String,
    _slot: OwnedSemaphorePermit,
}

/// What a failed attempt left behind, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Failures of this (name, address) in the current window, this one included.
    pub count: u32,
    /// Start of that window.
    pub window_start: DateTime<Utc>,
}

impl Attempt {
    /// The password was right: the attempt is taken back, and so are this address's earlier
    /// failures for the name (they were typos of someone who knows the password), from the
    /// pair, the address and the name.
    pub fn succeeded(self) {
        let mut c = self.limiter.counts();
        let pair = (self.name.clone(), self.address.clone());
        let n = c.pairs.remove(&pair).map_or(1, |p| p.n);
        for _ in 0..n {
            unbump(&mut c.addresses, &self.address);
            unbump(&mut c.names, &self.name);
        }
    }

    /// The password was wrong: the attempt stays counted.
    pub fn failed(self, now: DateTime<Utc>) -> Failure {
        let c = self.limiter.counts();
        let pair = (self.name.clone(), self.address.clone());
        match c.pairs.get(&pair) {
            Some(p) => Failure {
                count: p.n,
                window_start: p.first,
            },
            None => Failure {
                count: 1,
                window_start: now,
            },
        }
    }
}

/// Failed-login memory and the password-check slots, shared by every request.
#[derive(Debug)]
pub struct LoginLimiter {
    counts: Mutex<Counts>,
    slots: Arc<Semaphore>,
    size: usize,
    waiting: AtomicUsize,
}

/// A place in the queue for a slot; left on drop, also when the request is cancelled.
struct Waiting<'a>(&'a LoginLimiter);

impl<'a> Waiting<'a> {
    fn enter(l: &'a LoginLimiter) -> Option<Waiting<'a>> {
        let before = l.waiting.fetch_add(1, AtomicOrdering::SeqCst);
        let w = Waiting(l);
        (before < l.size * QUEUE_PER_SLOT).then_some(w)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, AtomicOrdering::SeqCst);
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(default_slots())
    }
}

/// Password checks run at once by default: the cores less one (at least one), so that
/// a burst of logins always leaves a core to every other request.
pub fn default_slots() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1).max(1))
        .unwrap_or(1)
}

impl LoginLimiter {
    /// A limiter running at most `slots` password checks at once.
    pub fn new(slots: usize) -> Self {
        let slots = slots.max(1);
        LoginLimiter {
            counts: Mutex::new(Counts::default()),
            slots: Arc::new(Semaphore::new(slots)),
            size: slots,
            waiting: AtomicUsize::new(0),
        }
    }

    /// Password checks that may run at once.
    pub fn slots(&self) -> usize {
        self.size
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        // A poisoned lock only means another thread panicked while holding it; the
        // counts themselves are always consistent (plain integer updates).
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a password-check slot and counts the attempt of `name` from `address`, or says
    /// why not. The name is compared lower-cased and trimmed.
    pub fn begin(
        self: &Arc<Self>,
        name: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<Attempt, Refusal> {
        let slot = Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy { retry_after: 1 })?;
        self.count(name, address, now, slot)
    }

    /// Like [`LoginLimiter::begin`], but when every slot is busy, waits up to
    /// [`SLOT_WAIT_MS`] ms for one, as long as fewer than [`QUEUE_PER_SLOT`] attempts per slot
    /// already wait; otherwise refuses at once. A rush of honest logins then keeps the slots
    /// busy instead of bouncing off them, and a flood still gets 503 at once.
    pub async fn begin_waiting(
        self: &Arc<Self>,
        name: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<Attempt, Refusal> {
        let slot = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                let queue = Waiting::enter(self).ok_or(Refusal::Busy { retry_after: 1 })?;
                let slot = tokio::time::timeout(
                    std::time::Duration::from_millis(SLOT_WAIT_MS),
                    Arc::clone(&self.slots).acquire_owned(),
                )
                .await;
                drop(queue);
                match slot {
                    Ok(Ok(slot)) => slot,
                    _ => return Err(Refusal::Busy { retry_after: 1 }),
                }
            }
        };
        self.count(name, address, now, slot)
    }

    fn count(
        self: &Arc<Self>,
        name: &str,
        address: &str,
        now: DateTime<Utc>,
        slot: OwnedSemaphorePermit,
    ) -> Result<Attempt, Refusal> {
        let name = name.trim().to_lowercase();
        let address = address_key(address);
        let mut c = self.counts();
        let pair = (name.clone(), address.clone());
        let pair_count = c.pairs.get(&pair).filter(|p| p.live(now)).copied();
        if let Some(p) = pair_count
            && p.n >= PAIR_LIMIT
        {
            return Err(Refusal::Locked {
                retry_after: secs_until(p.until(), now),
            });
        }
        if let Some(a) = c.addresses.get(&address).filter(|a| a.live(now))
            && a.n >= ADDRESS_LIMIT
        {
            return Err(Refusal::Locked {
                retry_after: secs_until(a.until(), now),
            });
        }
        if let Some(n) = c.names.get(&name).filter(|n| n.live(now)) {
            let applies = pair_count.is_some() || n.n >= NAME_SWARM;
            let next = n.last + name_delay(n.n);
            if applies && now < next {
                return Err(Refusal::Locked {
                    retry_after: secs_until(next, now),
                });
            }
        }
        bump(&mut c.pairs, pair, now);
        bump(&mut c.addresses, address.clone(), now);
        bump(&mut c.names, name.clone(), now);
        if c.pairs.len() + c.addresses.len() + c.names.len() > SWEEP_AT {
            c.pairs.retain(|_, v| v.live(now));
            c.addresses.retain(|_, v| v.live(now));
            c.names.retain(|_, v| v.live(now));
        }
        drop(c);
        Ok(Attempt {
            limiter: Arc::clone(self),
            name,
            address,
            _slot: slot,
        })
    }

    /// Whether it is time to look for operators' unlocks in the database: at most once every
    /// [`UNLOCK_CHECK_SECS`] seconds for the whole service, so that refused attempts cannot
    /// turn into a flood of queries. `Some(last)`: look at the events after id `last` (`None`:
    /// never looked yet).
    pub fn unlock_poll_due(&self, now: DateTime<Utc>) -> Option<Option<i64>> {
        let mut c = self.counts();
        if let Some(at) = c.unlock_polled_at
            && now < at + Duration::seconds(UNLOCK_CHECK_SECS)
        {
            return None;
        }
        c.unlock_polled_at = Some(now);
        Some(c.unlock_seen_id)
    }

    /// Remembers the last audit event id looked at for unlocks.
    pub fn unlock_polled(&self, last_id: i64) {
        let mut c = self.counts();
        c.unlock_seen_id = Some(c.unlock_seen_id.map_or(last_id, |s| s.max(last_id)));
    }

    /// Forgets every failure of `name` (operator unlock, password reset). Address counts stay.
    pub fn unlock(&self, name: &str) {
        let name = name.trim().to_lowercase();
        let mut c = self.counts();
        c.pairs.retain(|(n, _), _| *n != name);
        c.names.remove(&name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-02-10T02:00:00Z")
            .expect("instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_name_delay_doubles_from_the_sixth_failure_and_stops_at_fifteen_minutes() {
        assert_eq!(name_delay(4), Duration::zero());
        assert_eq!(name_delay(5), Duration::seconds(1));
        assert_eq!(name_delay(6), Duration::seconds(2));
        assert_eq!(name_delay(10), Duration::seconds(32));
        assert_eq!(name_delay(100), Duration::seconds(MAX_DELAY_SECS));
    }

    #[test]
    fn an_attempt_is_counted_before_it_is_settled_so_parallel_attempts_cannot_pass_the_limit() {
        let l = Arc::new(LoginLimiter::new(100));
        let held: Vec<_> = (0..PAIR_LIMIT)
            .map(|_| {
                l.begin("admin", "203.0.113.5", t0())
                    .expect("within the limit")
            })
            .collect();
        assert!(matches!(
            l.begin("Admin ", "203.0.113.5", t0()),
            Err(Refusal::Locked { .. })
        ));
        drop(held);
    }

    #[test]
    fn a_success_takes_its_attempt_back() {
        let l = Arc::new(LoginLimiter::new(4));
        for _ in 0..PAIR_LIMIT - 1 {
            l.begin("a", "198.51.100.1", t0())
                .expect("allowed")
                .failed(t0());
        }
        l.begin("a", "198.51.100.1", t0())
            .expect("allowed")
            .succeeded();
        for _ in 0..PAIR_LIMIT - 1 {
            l.begin("a", "198.51.100.1", t0())
                .expect("allowed again")
                .failed(t0());
        }
    }

    #[test]
    fn when_every_slot_is_busy_the_attempt_is_refused_at_once_and_not_counted() {
        let l = Arc::new(LoginLimiter::new(1));
        let first = l.begin("a", "198.51.100.1", t0()).expect("slot");
        assert_eq!(
            l.begin("b", "198.51.100.2", t0()).unwrap_err(),
            Refusal::Busy { retry_after: 1 }
        );
        first.failed(t0());
        l.begin("b", "198.51.100.2", t0()).expect("slot free again");
    }

    #[tokio::test]
    async fn a_few_attempts_wait_for_a_busy_slot_and_the_rest_are_refused_at_once() {
        let l = Arc::new(LoginLimiter::new(1));
        let first = l.begin("a", "198.51.100.1", t0()).expect("slot");
        let waiters: Vec<_> = (0..QUEUE_PER_SLOT + 3)
            .map(|i| {
                let l = Arc::clone(&l);
                tokio::spawn(async move {
                    l.begin_waiting(&format!("u{i}"), "198.51.100.2", t0())
                        .await
                        .map(|a| a.succeeded())
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        first.succeeded();
        let mut got = 0;
        let mut busy = 0;
        for w in waiters {
            match w.await.expect("task") {
                Ok(()) => got += 1,
                Err(Refusal::Busy { .. }) => busy += 1,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!((got, busy), (QUEUE_PER_SLOT, 3));
        assert_eq!(l.waiting.load(AtomicOrdering::SeqCst), 0);
    }

    #[test]
    fn ipv6_addresses_count_by_their_slash_64() {
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_key("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn many_addresses_guessing_one_name_make_every_address_wait() {
        let l = Arc::new(LoginLimiter::new(1));
        let now = t0();
        for i in 0..NAME_SWARM {
            let a = l
                .begin("admin", &format!("10.0.{}.{}", i / 200, i % 200), now)
                .expect("a fresh address is let through");
            a.failed(now);
        }
        assert!(matches!(
            l.begin("admin", "192.0.2.200", now),
            Err(Refusal::Locked { .. })
        ));
    }
}
