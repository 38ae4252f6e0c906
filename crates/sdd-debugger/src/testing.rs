//! Generated incidents with known causes: a service of three scenarios under steady traffic,
//! with one planted cause from the onset on, as the convention's events (a request span, step
//! spans, a decision event per request). For the incident analysis' tests and benchmark.
//!
//! Deterministic (a seeded splitmix64), so a failing case can be generated again.

use crate::event::{Event, EventKind, Nanos, Outcome, NANOS_PER_SECOND};

/// splitmix64: small, fast and good enough for generated traffic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

/// The cause planted at the onset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planted {
    Healthy,
    /// Version 2.1.0 replaces 2.0.0 at the onset; `complete` then fails 30 % of the time.
    Deploy,
    /// Requests from client version 7.1.0 (one in five) fail to `create` from the onset.
    Attribute,
    /// The `2_store` step of `create` takes 80 ms more from the onset.
    SlowStep,
    /// One user sends six times the whole service's traffic from the onset; the rate limit
    /// refuses what is over its budget.
    Spike,
    /// A canary: version 2.1.0 takes a quarter of the requests from the onset, and `complete`
    /// fails 40 % of the time there only.
    Canary,
    /// Orders paid by voucher (a decision factor, one in eight) fail to `create` from the
    /// onset.
    DecisionFactor,
    /// Client 7.1.0 starts failing `create` at the onset; version 2.1.0 is deployed a minute
    /// *later*: the deploy is a symptom of the response, never the cause.
    DeployAfterOnset,
    /// Healthy, but noisy: failures at 2 % with bursts of up to 8 in a second, and the traffic
    /// swinging by half over the run.
    NoisyHealthy,
}

impl Planted {
    pub const ALL: [Planted; 9] = [
        Planted::Healthy,
        Planted::Deploy,
        Planted::Attribute,
        Planted::SlowStep,
        Planted::Spike,
        Planted::Canary,
        Planted::DecisionFactor,
        Planted::DeployAfterOnset,
        Planted::NoisyHealthy,
    ];

    /// The hypothesis kind that must rank first (none for a healthy run).
    pub fn expected_kind(self) -> Option<&'static str> {
        match self {
            Planted::Healthy | Planted::NoisyHealthy => None,
            Planted::Deploy | Planted::Canary => Some("deploy"),
            Planted::Attribute | Planted::DecisionFactor | Planted::DeployAfterOnset => {
                Some("attribute")
            }
            Planted::SlowStep => Some("slow_step"),
            Planted::Spike => Some("traffic_spike"),
        }
    }

    /// A word that must appear in the first hypothesis' cause.
    pub fn expected_word(self) -> Option<&'static str> {
        match self {
            Planted::Healthy | Planted::NoisyHealthy => None,
            Planted::Deploy | Planted::Canary => Some("2.1.0"),
            Planted::Attribute | Planted::DeployAfterOnset => Some("client_version = 7.1.0"),
            Planted::DecisionFactor => Some("decision.payment = voucher"),
            Planted::SlowStep => Some("2_store"),
            Planted::Spike => Some("rate limit"),
        }
    }
}

pub const SCENARIO_CREATE: &str = "shop.create_an_order";
pub const SCENARIO_COMPLETE: &str = "shop.complete_an_order";
pub const SCENARIO_LIST: &str = "shop.list_orders";
pub const RATE_LIMIT: &str = "shop.security.rate_limiting";

/// A generated run: its events (in time order) and where the cause was planted.
#[derive(Debug)]
pub struct Generated {
    pub events: Vec<Event>,
    pub start: Nanos,
    pub onset: Nanos,
    pub end: Nanos,
}

/// `seconds` of traffic at `rate` requests per second (Poisson arrivals), the cause planted
/// at 70 % of the run. About four events per request.
pub fn incident(planted: Planted, seed: u64, rate: f64, seconds: u64) -> Generated {
    let mut rng = Rng::new(seed);
    let start: Nanos = 1_796_000_000 * NANOS_PER_SECOND;
    let end = start + seconds as Nanos * NANOS_PER_SECOND;
    let onset = start + (seconds as Nanos * 7 / 10) * NANOS_PER_SECOND;
    let mut events = Vec::with_capacity((rate * seconds as f64 * 4.5) as usize);
    let mut at = start as f64;
    let mut request = 0u64;
    // Per-user request times for the rate limit (the spike's user only: the others stay far
    // under it).
    let mut spiker_window: std::collections::VecDeque<Nanos> = Default::default();
    let spiker_limit_per_minute = 600usize;
    loop {
        let spiking = planted == Planted::Spike && at as Nanos >= onset;
        let mut total_rate = if spiking { rate * 7.0 } else { rate };
        if planted == Planted::NoisyHealthy {
            // Half again as busy at the middle of the run as at its ends, smoothly.
            let phase = (at - start as f64) / (end - start) as f64;
            total_rate *= 1.0 + 0.5 * (std::f64::consts::PI * phase).sin();
        }
        at += rng.exponential(NANOS_PER_SECOND as f64 / total_rate);
        let t = at as Nanos;
        if t >= end {
            break;
        }
        request += 1;
        let from_spiker = spiking && rng.unit() < 6.0 / 7.0;
        let user = if from_spiker {
            "bot-1".to_string()
        } else {
            format!("user-{}", rng.below(500))
        };
        let shard = ["A", "B", "C"][(fnv(&user) % 3) as usize];
        let client = match rng.below(10) {
            0 | 1 => "7.1.0",
            2..=5 => "7.0.3",
            _ => "6.9.9",
        };
        let deployed = match planted {
            Planted::Deploy => t >= onset,
            Planted::Canary => t >= onset && rng.unit() < 0.25,
            Planted::DeployAfterOnset => t >= onset + 60 * NANOS_PER_SECOND,
            _ => false,
        };
        let version = if deployed { "2.1.0" } else { "2.0.0" };
        let trace = format!("{:016x}{:016x}", seed, request);
        let root_span = format!("{:016x}", request * 4 + 1);
        let base = |kind, at| {
            let mut e = Event::at(at, kind);
            e.trace_id = Some(trace.clone());
            e.service_name = Some("shop".into());
            e.service_version = Some(version.into());
            e.attributes.insert("user".into(), user.clone());
            e.attributes.insert("db_shard".into(), shard.into());
            e.attributes.insert("client_version".into(), client.into());
            e
        };
        if from_spiker {
            while spiker_window
                .front()
                .is_some_and(|&f| t - f >= 60 * NANOS_PER_SECOND)
            {
                spiker_window.pop_front();
            }
            if spiker_window.len() >= spiker_limit_per_minute {
                let mut root = base(EventKind::Span, t);
                root.name = Some("request".into());
                root.span_id = Some(root_span.clone());
                root.duration_ms = Some(0.2);
                events.push(root);
                let mut refusal = base(EventKind::Log, t + 50_000);
                refusal.name = Some("rate_limit.admit".into());
                refusal.constraint = Some(RATE_LIMIT.into());
                refusal.outcome = Some(Outcome::Refused);
                refusal.span_id = Some(root_span);
                refusal.message = Some("Rate limit exceeded".into());
                events.push(refusal);
                continue;
            }
            spiker_window.push_back(t);
        }
        let (scenario, steps): (&str, [&str; 2]) = match rng.below(10) {
            0..=3 => (SCENARIO_CREATE, ["1_validate", "2_store"]),
            4..=6 => (SCENARIO_COMPLETE, ["1_load", "2_update"]),
            _ => (SCENARIO_LIST, ["1_authorize", "2_query"]),
        };
        let mut failed = rng.unit() < 0.002;
        if planted == Planted::NoisyHealthy {
            // 2 % all along, and now and then a burst.
            failed |= rng.unit() < 0.02 || (t / NANOS_PER_SECOND) % 97 == 0 && rng.unit() < 0.3;
        }
        if planted == Planted::Deploy && deployed && scenario == SCENARIO_COMPLETE {
            failed |= rng.unit() < 0.3;
        }
        if planted == Planted::Canary && deployed && scenario == SCENARIO_COMPLETE {
            failed |= rng.unit() < 0.4;
        }
        if matches!(planted, Planted::Attribute | Planted::DeployAfterOnset)
            && t >= onset
            && scenario == SCENARIO_CREATE
            && client == "7.1.0"
        {
            failed |= rng.unit() < 0.9;
        }
        let payment = if rng.below(8) == 0 { "voucher" } else { "card" };
        if planted == Planted::DecisionFactor
            && t >= onset
            && scenario == SCENARIO_CREATE
            && payment == "voucher"
        {
            failed = true;
        }
        let mut step_at = t + 20_000;
        let mut total_ms = 0.0;
        for (i, step) in steps.iter().enumerate() {
            let mut ms = 0.5 + rng.exponential(1.5);
            if planted == Planted::SlowStep
                && t >= onset
                && scenario == SCENARIO_CREATE
                && *step == "2_store"
            {
                ms += 80.0;
            }
            let mut span = base(EventKind::Span, step_at);
            span.name = Some(format!("{scenario}.{step}"));
            span.scenario = Some(scenario.into());
            span.step = Some((*step).into());
            span.span_id = Some(format!("{:016x}", request * 4 + 2 + i as u64));
            span.parent_span_id = Some(root_span.clone());
            span.duration_ms = Some(ms);
            events.push(span);
            step_at += (ms * 1e6) as Nanos;
            total_ms += ms;
        }
        let mut decision = base(EventKind::Log, step_at);
        decision.name = Some(format!("{scenario}.decide"));
        decision.scenario = Some(scenario.into());
        decision.step = Some(steps[1].into());
        decision.outcome = Some(if failed {
            Outcome::Failure
        } else {
            Outcome::Success
        });
        decision
            .attributes
            .insert("order_id".into(), request.to_string());
        if scenario == SCENARIO_CREATE {
            decision
                .decision_factors
                .insert("payment".into(), serde_json::json!(payment));
        }
        decision.span_id = Some(root_span.clone());
        if failed {
            decision.message = Some(format!("{scenario} failed"));
        }
        events.push(decision);
        let mut root = base(EventKind::Span, t);
        root.name = Some("request".into());
        root.span_id = Some(root_span);
        root.duration_ms = Some(total_ms + 0.1);
        events.push(root);
    }
    events.sort_by_key(|e| e.at);
    Generated {
        events,
        start,
        onset,
        end,
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The generated shop as a spec: its three scenarios (IDs `shop.create_an_order`,
/// `shop.complete_an_order`, `shop.list_orders`) and a rate limit far above its traffic.
pub const SHOP_SPEC: &str = "\
feature: Shop
description: Orders, created and completed.
constraints:
  security:
    - name: Rate limiting
      requirement: Max 600 requests per minute per user
scenarios:
  - name: Create an order
    when: I create an order
    then: The order exists
  - name: Complete an order
    given: An order exists
    when: I complete it
    then: The order is completed
  - name: List orders
    when: I list my orders
    then: I see them
";

/// A generated run's events as JSON lines, one per line.
pub fn json_lines(generated: &Generated) -> String {
    let mut events = String::new();
    for e in &generated.events {
        events.push_str(&json_line(e));
        events.push('\n');
    }
    events
}

/// An event as a line of the JSON-lines convention (README, "Semantic event convention"):
/// what a service following it writes.
pub fn json_line(e: &Event) -> String {
    use crate::event::fields;
    let mut o = serde_json::Map::new();
    let mut put = |k: &str, v: Option<serde_json::Value>| {
        if let Some(v) = v {
            o.insert(k.to_string(), v);
        }
    };
    let at = chrono::DateTime::from_timestamp(
        e.at.div_euclid(NANOS_PER_SECOND),
        e.at.rem_euclid(NANOS_PER_SECOND) as u32,
    )
    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
    let text = |v: &Option<String>| v.clone().map(serde_json::Value::String);
    put(fields::TIMESTAMP, at.map(serde_json::Value::String));
    put(fields::EVENT, text(&e.name));
    put(fields::MESSAGE, text(&e.message));
    put(fields::LEVEL, text(&e.level));
    put(fields::SCENARIO, text(&e.scenario));
    put(fields::STEP, text(&e.step));
    put(fields::CONSTRAINT, text(&e.constraint));
    put(fields::BUSINESS_RULE, text(&e.business_rule));
    put(fields::EXPECTED_OUTCOME, text(&e.expected_outcome));
    put(fields::ACTUAL_OUTCOME, text(&e.actual_outcome));
    put(
        fields::OUTCOME,
        e.outcome
            .map(|o| serde_json::Value::String(o.word().into())),
    );
    if !e.decision_factors.is_empty() {
        put(
            fields::DECISION_FACTORS,
            Some(serde_json::Value::Object(
                e.decision_factors
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )),
        );
    }
    if !e.attributes.is_empty() {
        put(
            fields::ATTRIBUTES,
            Some(serde_json::Value::Object(
                e.attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
            )),
        );
    }
    put(fields::TRACE_ID, text(&e.trace_id));
    put(fields::SPAN_ID, text(&e.span_id));
    put(fields::PARENT_SPAN_ID, text(&e.parent_span_id));
    put(
        fields::DURATION_MS,
        e.duration_ms
            .and_then(serde_json::Number::from_f64)
            .map(serde_json::Value::Number),
    );
    put(fields::SERVICE_NAME, text(&e.service_name));
    put(fields::SERVICE_VERSION, text(&e.service_version));
    if e.kind == EventKind::Span {
        o.insert("kind".into(), serde_json::Value::String("span".into()));
    }
    serde_json::Value::Object(o).to_string()
}
