//! WebSub (W3C Recommendation) publishing: tell the configured hubs which feeds changed.
//!
//! Every live feed (`{slug}.rss`, `.atom`, `.json`) is a *topic*; its URL is exactly the
//! feed's `rel="self"` link. After each publish, `herald serve` sends every hub a publish
//! ping — `POST hub`, `application/x-www-form-urlencoded`, `hub.mode=publish&hub.url=TOPIC` —
//! for each live feed whose bytes changed. Archive pages and the OPML list are not topics:
//! complete pages never change, and nobody subscribes to the open page or the list.
//!
//! The network never holds up a rebuild: the publisher only puts topic URLs on a channel.
//! Each hub has its own thread (a slow or dead hub does not delay the others) that keeps a
//! queue of pending pings, one per topic: a topic changed again while its ping still waits is
//! not queued twice. A failed ping (connection error, timeout, 408, 429 or 5xx) is retried
//! with exponential backoff up to a number of attempts; `Retry-After` on a 429 or 5xx holds
//! every ping to that hub until then. Any other answer but 2xx is logged and not retried
//! (the hub refused the request; asking again would get the same answer).
//!
//! The queue, the backoff and the reading of answers are pure functions of the time they are
//! given (tested below); only [`Pinger`] and its threads touch the network and the clock.

use crate::publish::Snapshot;
use actix_web::http::header::HeaderValue;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

/// How pings are retried. The defaults are for real hubs; tests use short delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Wait after the first failure; doubled after each further failure.
    pub first_delay: Duration,
    /// Longest wait between two attempts.
    pub max_delay: Duration,
    /// Attempts per ping, the first included; then the ping is given up (and logged).
    pub max_attempts: u32,
    /// One attempt (connect, send, answer) may take at most this long.
    pub timeout: Duration,
    /// A hub's `Retry-After` is honoured up to this long.
    pub max_retry_after: Duration,
}

impl Default for Retry {
    /// 10 attempts over about 15 minutes (2 s, 4 s, … 256 s, 300 s): a hub restarting or
    /// briefly overloaded gets every ping; a hub down for longer misses only pings that a
    /// later change repeats anyway.
    fn default() -> Self {
        Retry {
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
            max_attempts: 10,
            timeout: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

impl Retry {
    /// The wait after the `failures`-th failed attempt (1 for the first): `first_delay`
    /// doubled `failures - 1` times, at most `max_delay`.
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first_delay.saturating_mul(1 << doublings).min(self.max_delay)
    }
}

/// Whether `name` (a snapshot file name) is a live feed, i.e. a WebSub topic.
pub fn is_topic(name: &str) -> bool {
    !name.contains('/')
        && name
            .rsplit_once('.')
            .is_some_and(|(slug, ext)| !slug.is_empty() && matches!(ext, "rss" | "atom" | "json"))
}

/// The live feeds of `new` whose bytes differ from `old` (or that `old` does not have), in
/// name order. Feeds that vanished are not pinged: there is no new content to announce.
pub fn changed_topics(old: &Snapshot, new: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = new
        .feeds
        .iter()
        .filter(|(name, _)| is_topic(name))
        .filter(|(name, doc)| match old.feeds.get(*name) {
            // Unchanged feeds share their buffer with the old snapshot: no tags to compare.
            Some(before) => {
                !std::sync::Arc::ptr_eq(before, doc)
                    && before.identity_etag() != doc.identity_etag()
            }
            None => true,
        })
        .map(|(name, _)| name.clone())
        .collect();
    out.sort();
    out
}

/// The `Link` header of a live feed (W3C WebSub §4: at least one `rel="hub"`, exactly one
/// `rel="self"`): `None` when there are no hubs.
pub fn link_header(hubs: &[String], topic: &str) -> Option<HeaderValue> {
    if hubs.is_empty() {
        return None;
    }
    let mut value = String::new();
    for hub in hubs {
        value.push_str(&format!("<{hub}>; rel=\"hub\", "));
    }
    value.push_str(&format!("<{topic}>; rel=\"self\""));
    // Both URLs come normalised from the `url` crate or percent-encoded: always valid.
    HeaderValue::from_str(&value).ok()
}

/// A warning when the hubs could not fetch the topics: `site.base_url` is a loopback address
/// (the default, `http://127.0.0.1:8080`, or `localhost`) while a hub is not on this machine.
pub fn unreachable_topics_warning(base_url: &str, hubs: &[String]) -> Option<String> {
    let is_local = |u: &str| {
        url::Url::parse(u).ok().is_some_and(|u| match u.host() {
            Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        })
    };
    let remote: Vec<&str> = hubs.iter().map(String::as_str).filter(|h| !is_local(h)).collect();
    (is_local(base_url) && !remote.is_empty()).then(|| {
        format!(
            "WebSub: site.base_url is {base_url}, which {} cannot fetch; set site.base_url \
             (or --base-url) to the public address of the feeds",
            remote.join(", ")
        )
    })
}

/// How a hub answered one ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 2xx: the hub took the ping (hubs answer 202 or 204).
    Accepted,
    /// Worth another attempt: the hub could not be reached, timed out, was overloaded or
    /// failed (408, 429, 5xx). `after` is its `Retry-After`, if it gave one.
    Retry { after: Option<Duration>, why: String },
    /// Any other answer: the hub refused the ping; asking again would get the same.
    Refused(String),
}

/// Read a hub's answer: its status and `Retry-After` header, at `now`.
pub fn classify(status: u16, retry_after: Option<&str>, now: DateTime<Utc>) -> Answer {
    match status {
        200..=299 => Answer::Accepted,
        408 | 429 | 500..=599 => Answer::Retry {
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
            why: format!("HTTP {status}"),
        },
        _ => Answer::Refused(format!("HTTP {status}")),
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; a date in the past is
/// no wait. `None` when the value is neither.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// One pending ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    /// Failed attempts so far.
    failures: u32,
    due: Instant,
    /// Order of arrival: pings due at the same time go out first come, first served.
    seq: u64,
}

/// The pings waiting for one hub, at most one per topic. Pure: the time is passed in.
#[derive(Debug, Default)]
pub struct Queue {
    pending: HashMap<String, Pending>,
    /// No ping to this hub before then (its `Retry-After`).
    hold_until: Option<Instant>,
    seq: u64,
}

/// What became of a failed ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Queued again; the next attempt (`attempt`, counted from 1) in `wait`.
    Retry { attempt: u32, wait: Duration },
    /// Out of attempts: dropped.
    GiveUp,
}

impl Queue {
    /// Queue a ping for `topic`, due now. Returns `false` when one is already waiting: the
    /// hub fetches the topic when it gets that one, so it sees this change too.
    pub fn push(&mut self, topic: String, now: Instant) -> bool {
        if self.pending.contains_key(&topic) {
            return false;
        }
        self.seq += 1;
        self.pending.insert(topic, Pending { failures: 0, due: now, seq: self.seq });
        true
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// When the next ping is due: the earliest due time, not before the hub's hold.
    fn next_at(&self) -> Option<Instant> {
        let due = self.pending.values().map(|p| p.due).min()?;
        Some(self.hold_until.map_or(due, |hold| due.max(hold)))
    }

    /// How long until the next ping is due (zero if one is due now); `None` when empty.
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        self.next_at().map(|at| at.saturating_duration_since(now))
    }

    /// Take the ping that is due first, if one is due at `now`: its topic and how many
    /// attempts failed before.
    pub fn take_due(&mut self, now: Instant) -> Option<(String, u32)> {
        if self.next_at()? > now {
            return None;
        }
        let topic = self
            .pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .min_by_key(|(_, p)| (p.due, p.seq))
            .map(|(t, _)| t.clone())?;
        let pending = self.pending.remove(&topic)?;
        Some((topic, pending.failures))
    }

    /// The ping for `topic` (with `failures` failed attempts before this one) failed at
    /// `now`: queue it again after the backoff, or after the hub's `Retry-After` when that
    /// is longer (which then also holds every other ping to the hub), unless it is out of
    /// attempts. A ping for the topic queued meanwhile is merged into the retry.
    pub fn failed(
        &mut self,
        topic: String,
        failures: u32,
        retry_after: Option<Duration>,
        now: Instant,
        retry: &Retry,
    ) -> AfterFailure {
        let failures = failures + 1;
        if failures >= retry.max_attempts {
            return AfterFailure::GiveUp;
        }
        let mut wait = retry.delay(failures);
        if let Some(after) = retry_after.map(|a| a.min(retry.max_retry_after)) {
            let hold = now + after;
            self.hold_until = Some(self.hold_until.map_or(hold, |h| h.max(hold)));
            wait = wait.max(after);
        }
        self.seq += 1;
        let seq = self.seq;
        let entry = self.pending.entry(topic).or_insert(Pending { failures, due: now, seq });
        entry.failures = entry.failures.max(failures);
        entry.due = entry.due.max(now + wait);
        AfterFailure::Retry { attempt: failures + 1, wait }
    }
}

/// Sends the publish pings of `herald serve`: one thread per hub, fed by a channel.
/// Dropping the `Pinger` (every clone) ends the threads (a ping in flight is finished first).
#[derive(Clone)]
pub struct Pinger {
    base_url: String,
    hubs: Vec<Sender<Vec<String>>>,
}

impl Pinger {
    /// Start a thread per hub of `hubs`; `None` when there are none (WebSub off).
    pub fn start(hubs: &[String], base_url: &str, retry: Retry) -> std::io::Result<Option<Pinger>> {
        if hubs.is_empty() {
            return Ok(None);
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // Statuses are answers to read (429, 5xx with Retry-After), not errors.
            .http_status_as_error(false)
            .timeout_global(Some(retry.timeout))
            // A redirected POST would be re-sent as a GET: a redirect is an answer, refused.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(format!("Herald/{} (WebSub publisher)", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let mut senders = Vec::with_capacity(hubs.len());
        for (i, hub) in hubs.iter().enumerate() {
            let (tx, rx) = std::sync::mpsc::channel();
            let (hub, agent) = (hub.clone(), agent.clone());
            std::thread::Builder::new()
                .name(format!("herald-websub-{i}"))
                .spawn(move || hub_loop(&hub, &agent, rx, &retry))?;
            senders.push(tx);
        }
        tracing::info!("WebSub: live feeds are announced to {}", hubs.join(", "));
        if let Some(warning) = unreachable_topics_warning(base_url, hubs) {
            tracing::warn!("{warning}");
        }
        Ok(Some(Pinger { base_url: base_url.to_string(), hubs: senders }))
    }

    /// Announce the live feeds among `files` (snapshot file names) to every hub. Never
    /// blocks: the pings are sent by the hubs' threads.
    pub fn ping(&self, files: &[String]) {
        let topics: Vec<String> = files
            .iter()
            .filter(|f| is_topic(f))
            .map(|f| crate::http::feed_url(&self.base_url, f))
            .collect();
        if topics.is_empty() {
            return;
        }
        for hub in &self.hubs {
            // A hub thread only ends when this `Pinger` is dropped.
            let _ = hub.send(topics.clone());
        }
    }
}

/// One hub's thread: queue what arrives, send what is due, until the `Pinger` is dropped.
fn hub_loop(hub: &str, agent: &ureq::Agent, rx: Receiver<Vec<String>>, retry: &Retry) {
    let mut queue = Queue::default();
    loop {
        let arrived = match queue.wait(Instant::now()) {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(wait) => rx.recv_timeout(wait),
        };
        match arrived {
            Ok(topics) => queue_all(&mut queue, topics),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        while let Some((topic, failures)) = queue.take_due(Instant::now()) {
            let answer = send(agent, hub, &topic);
            match answer {
                Answer::Accepted => tracing::debug!("WebSub: {hub} took the ping for {topic}"),
                Answer::Refused(why) => tracing::error!(
                    "WebSub: {hub} refused the ping for {topic} ({why}); not retried — check \
                     websub.hubs and that the hub accepts this topic"
                ),
                Answer::Retry { after, why } => {
                    match queue.failed(topic.clone(), failures, after, Instant::now(), retry) {
                        AfterFailure::Retry { attempt, wait } => tracing::warn!(
                            "WebSub: ping to {hub} for {topic} failed ({why}); attempt {attempt} \
                             of {} in {wait:.1?}",
                            retry.max_attempts
                        ),
                        AfterFailure::GiveUp => tracing::error!(
                            "WebSub: ping to {hub} for {topic} failed ({why}); gave up after {} \
                             attempts (the next change of the feed pings again)",
                            retry.max_attempts
                        ),
                    }
                }
            }
            // Take in what arrived meanwhile, so repeated changes merge into queued pings.
            loop {
                match rx.try_recv() {
                    Ok(topics) => queue_all(&mut queue, topics),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
        }
    }
}

fn queue_all(queue: &mut Queue, topics: Vec<String>) {
    let now = Instant::now();
    for topic in topics {
        queue.push(topic, now);
    }
}

/// Send one publish ping and read the answer.
fn send(agent: &ureq::Agent, hub: &str, topic: &str) -> Answer {
    match agent.post(hub).send_form([("hub.mode", "publish"), ("hub.url", topic)]) {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let answer = classify(status, retry_after.as_deref(), Utc::now());
            // Read (a little of) the body: a hub's refusal usually says why.
            let body =
                response.body_mut().with_config().limit(2048).read_to_string().unwrap_or_default();
            match answer {
                Answer::Refused(why) if !body.trim().is_empty() => {
                    Answer::Refused(format!("{why}: {}", body.trim()))
                }
                answer => answer,
            }
        }
        Err(e) => Answer::Retry { after: None, why: e.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::encode::Encoded;
    use std::sync::Arc;

    fn retry() -> Retry {
        Retry {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            max_attempts: 4,
            ..Retry::default()
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = retry();
        let delays: Vec<u64> = (1..=6).map(|n| r.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(r.delay(u32::MAX), Duration::from_secs(10), "no overflow");
        let d = Retry::default();
        let total: Duration = (1..d.max_attempts).map(|n| d.delay(n)).sum();
        assert!(total > Duration::from_secs(600) && total < Duration::from_secs(1200), "{total:?}");
    }

    #[test]
    fn topics_are_live_feeds_only() {
        for name in ["all.rss", "all.atom", "all.json", "喜马拉雅.rss", "a.b.atom"] {
            assert!(is_topic(name), "{name}");
        }
        for name in ["index.opml", "tech/archive/3.rss", "rss.xsl", ".rss", "all"] {
            assert!(!is_topic(name), "{name}");
        }
    }

    fn snapshot(docs: &[(&str, &str)]) -> Snapshot {
        let mut s = Snapshot::default();
        for (name, body) in docs {
            let doc = Encoded::new(body.as_bytes().to_vec(), "text/plain", Utc::now());
            s.feeds.insert(name.to_string(), Arc::new(doc));
        }
        s
    }

    #[test]
    fn changed_topics_are_the_live_feeds_with_new_bytes() {
        let old = snapshot(&[
            ("all.rss", "a"),
            ("all.atom", "a"),
            ("tech.rss", "t"),
            ("gone.rss", "g"),
            ("index.opml", "o"),
        ]);
        let mut new = snapshot(&[
            ("all.rss", "a2"),    // changed
            ("all.atom", "a"),    // same bytes, another buffer (a full rebuild)
            ("new.json", "n"),    // new feed
            ("index.opml", "o2"), // not a topic
            ("new/archive/1.rss", "p"),
        ]);
        new.feeds.insert("tech.rss".into(), old.feeds["tech.rss"].clone()); // shared: unchanged
        assert_eq!(changed_topics(&old, &new), ["all.rss", "new.json"]);
        assert!(changed_topics(&new, &new).is_empty());
    }

    #[test]
    fn link_header_names_every_hub_then_self() {
        assert_eq!(link_header(&[], "https://f.example/feeds/all.rss"), None);
        let hubs = vec!["https://a.example/".to_string(), "http://b.example/hub".to_string()];
        let value = link_header(&hubs, "https://f.example/feeds/all.rss").unwrap();
        assert_eq!(
            value.to_str().unwrap(),
            "<https://a.example/>; rel=\"hub\", <http://b.example/hub>; rel=\"hub\", \
             <https://f.example/feeds/all.rss>; rel=\"self\""
        );
    }

    #[test]
    fn a_loopback_base_url_with_a_remote_hub_is_warned_about() {
        let hubs = |h: &[&str]| h.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let remote = hubs(&["https://hub.example/"]);
        let local = hubs(&["http://127.0.0.1:9/hub", "http://localhost:7/"]);
        for base in ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"] {
            let warning = unreachable_topics_warning(base, &remote).expect(base);
            assert!(warning.contains(base) && warning.contains("https://hub.example/"));
            assert_eq!(unreachable_topics_warning(base, &local), None, "{base}: local hubs");
        }
        assert_eq!(unreachable_topics_warning("https://feeds.example.org", &remote), None);
    }

    #[test]
    fn answers_are_read_by_status_and_retry_after() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        for status in [200, 202, 204] {
            assert_eq!(classify(status, None, now), Answer::Accepted);
        }
        for status in [400, 403, 404, 410, 301, 100] {
            assert!(matches!(classify(status, None, now), Answer::Refused(_)), "{status}");
        }
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(
                matches!(classify(status, None, now), Answer::Retry { after: None, .. }),
                "{status}"
            );
        }
        let after = |v| match classify(503, Some(v), now) {
            Answer::Retry { after, .. } => after,
            other => panic!("{other:?}"),
        };
        assert_eq!(after("120"), Some(Duration::from_secs(120)));
        assert_eq!(after(" 0 "), Some(Duration::ZERO));
        assert_eq!(after("Thu, 01 Jan 2026 00:01:30 GMT"), Some(Duration::from_secs(90)));
        assert_eq!(after("Wed, 31 Dec 2025 23:00:00 GMT"), Some(Duration::ZERO), "past");
        assert_eq!(after("soon"), None);
        assert_eq!(after("-5"), None);
        assert_eq!(after("99999999999999999999999"), Some(Duration::from_secs(u64::MAX)));
    }

    #[test]
    fn queue_coalesces_a_topic_that_is_still_waiting() {
        let t0 = Instant::now();
        let mut q = Queue::default();
        assert!(q.push("a".into(), t0));
        assert!(q.push("b".into(), t0));
        assert!(!q.push("a".into(), t0), "a is already queued");
        assert_eq!(q.len(), 2);
        assert_eq!(q.wait(t0), Some(Duration::ZERO));
        assert_eq!(q.take_due(t0), Some(("a".into(), 0)), "first come, first served");
        // Once taken (being sent), a new change queues a new ping: the hub may have fetched
        // the topic before that change was published.
        assert!(q.push("a".into(), t0));
        assert_eq!(q.take_due(t0), Some(("b".into(), 0)));
        assert_eq!(q.take_due(t0), Some(("a".into(), 0)));
        assert_eq!(q.take_due(t0), None);
        assert!(q.is_empty());
        assert_eq!(q.wait(t0), None);
    }

    #[test]
    fn failures_back_off_then_give_up() {
        let r = retry();
        let t0 = Instant::now();
        let mut q = Queue::default();
        q.push("a".into(), t0);
        let mut now = t0;
        let mut waits = Vec::new();
        loop {
            let (topic, failures) = q.take_due(now).expect("due");
            match q.failed(topic, failures, None, now, &r) {
                AfterFailure::Retry { attempt, wait } => {
                    assert_eq!(attempt, failures + 2);
                    assert_eq!(q.wait(now), Some(wait));
                    assert_eq!(q.take_due(now + wait - Duration::from_millis(1)), None, "early");
                    waits.push(wait.as_secs());
                    now += wait;
                }
                AfterFailure::GiveUp => break,
            }
        }
        assert_eq!(waits, [1, 2, 4], "4 attempts: 3 waits");
        assert!(q.is_empty(), "given up");
        // A later change pings again, from the first attempt.
        assert!(q.push("a".into(), now));
        assert_eq!(q.take_due(now), Some(("a".into(), 0)));
    }

    #[test]
    fn retry_after_holds_the_whole_hub_and_is_capped() {
        let r = Retry { max_retry_after: Duration::from_secs(60), ..retry() };
        let t0 = Instant::now();
        let mut q = Queue::default();
        q.push("a".into(), t0);
        q.push("b".into(), t0);
        let (topic, failures) = q.take_due(t0).unwrap();
        let after = q.failed(topic, failures, Some(Duration::from_secs(30)), t0, &r);
        assert_eq!(after, AfterFailure::Retry { attempt: 2, wait: Duration::from_secs(30) });
        // b was due already, but the hub asked for 30 s.
        assert_eq!(q.take_due(t0), None);
        assert_eq!(q.wait(t0), Some(Duration::from_secs(30)));
        let t1 = t0 + Duration::from_secs(30);
        assert_eq!(q.take_due(t1), Some(("b".into(), 0)));
        assert_eq!(q.take_due(t1), Some(("a".into(), 1)));
        // A Retry-After of a day is cut to max_retry_after.
        q.push("c".into(), t1);
        let (topic, failures) = q.take_due(t1).unwrap();
        let after = q.failed(topic, failures, Some(Duration::from_secs(86_400)), t1, &r);
        assert_eq!(after, AfterFailure::Retry { attempt: 2, wait: Duration::from_secs(60) });
    }

    #[test]
    fn a_change_while_a_retry_waits_merges_into_it() {
        let r = retry();
        let t0 = Instant::now();
        let mut q = Queue::default();
        q.push("a".into(), t0);
        let (topic, failures) = q.take_due(t0).unwrap();
        // The feed changed again while the failed ping was in flight.
        assert!(q.push("a".into(), t0));
        q.failed(topic, failures, None, t0, &r);
        assert_eq!(q.len(), 1, "one ping for the topic");
        assert_eq!(q.take_due(t0), None, "it waits for the backoff");
        assert_eq!(q.take_due(t0 + r.delay(1)), Some(("a".into(), 1)));
    }
}
