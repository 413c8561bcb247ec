//! Throttles and quotas counted in Redis, so that several gateway nodes share them: a usage
//! plan's rate and quota, a stage method's throttle and the account throttle hold across the
//! nodes as they do on one.
//!
//! Each request is one `EVALSHA` of [`CHECK`], which decides every level at once, atomically,
//! on Redis's clock (`TIME`), so that nodes whose clocks differ share one timeline: it computes
//! each bucket's next state, and writes them (and counts the request in the key's usage) only
//! if every level lets the request through, so a refused request costs nothing. The buckets
//! are the same GCRA as `causeway_limits::bucket` (the instant a bucket is full again, here in
//! microseconds, or `n<taken>` for a bucket that never refills) and expire once full. Usage is
//! a hash per plan and key, a field per UTC day (`<day>` requests, `a<day>` adjustments), kept
//! 93 days past its last change.
//!
//! If Redis does not answer within the answer timeout ([`ANSWER_TIMEOUT`] unless the
//! server's configuration says otherwise), the request is let through and a warning logged
//! (at most once a second): an outage of the counters does not take the APIs down with it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use causeway_limits::{
    Checking, Day, DayUsage, Decision, Forget, Level, Limiter, LimitsError, Now, PlanKey,
    PlanLimits, Request, ThrottleConfig, UsageDay, UsageRecord,
};
use redis::aio::ConnectionManager;
use redis::{Commands, ConnectionLike};

/// How long a request waits for Redis before it is let through, by default.
pub const ANSWER_TIMEOUT: Duration = Duration::from_millis(250);

/// How long a key's usage is kept after its last change: the in-memory limiter's retention.
const USAGE_TTL_SECONDS: i64 = 93 * 24 * 3600;

/// Prepends to a script the one definition of what is left of a quota period:
/// `period_left(hash, start, today, allowance)` is the allowance plus the adjustments, minus
/// the requests, of the days `start..=today` in a key's usage hash.
macro_rules! with_period_left {
    ($script:literal) => {
        concat!(
            r#"
local function period_left(hash, start, today, allowance)
  local fields = {}
  for d = start, today do
    fields[#fields + 1] = tostring(d)
    fields[#fields + 1] = 'a' .. d
  end
  local values = redis.call('HMGET', hash, unpack(fields))
  local left = allowance
  for j = 1, #values, 2 do
    left = left - (tonumber(values[j]) or 0) + (tonumber(values[j + 1]) or 0)
  end
  return left
end
"#,
            $script
        )
    };
}

/// Every level of a request, decided and counted at once. Answers 0 (allowed), 1–4 (throttled
/// at the plan method, plan, stage method or account level) or 5 (quota exceeded).
///
/// KEYS: the four levels' buckets, then the key's usage hash.
/// ARGV: per level `present rate burst`; then `plan quota today period_start allowance`.
const CHECK: &str = with_period_left!(
    r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function decide(i)
  local base = (i - 1) * 3
  if ARGV[base + 1] ~= '1' then return nil end
  local rate = tonumber(ARGV[base + 2])
  local burst = tonumber(ARGV[base + 3])
  if burst <= 0 then return false end
  local v = redis.call('GET', KEYS[i])
  if rate <= 0 then
    local taken = 0
    if v and string.sub(v, 1, 1) == 'n' then taken = tonumber(string.sub(v, 2)) end
    if taken >= burst then return false end
    return {'n' .. (taken + 1), nil}
  end
  local step = math.max(1, math.floor(1000000 / rate + 0.5))
  local full_at = 0
  if v and string.sub(v, 1, 1) ~= 'n' then full_at = tonumber(v) end
  local debt = full_at - now
  if debt < 0 then debt = 0 end
  if debt > (burst - 1) * step then return false end
  local next = math.max(full_at, now) + step
  return {string.format('%.0f', next), math.floor((next - now) / 1000) + 1000}
end
local states = {}
for i = 1, 2 do
  local s = decide(i)
  if s == false then return i end
  states[i] = s
end
local plan = ARGV[13] == '1'
local today = tonumber(ARGV[15])
if plan and ARGV[14] == '1' then
  if period_left(KEYS[5], tonumber(ARGV[16]), today, tonumber(ARGV[17])) <= 0 then return 5 end
end
for i = 3, 4 do
  local s = decide(i)
  if s == false then return i end
  states[i] = s
end
for i = 1, 4 do
  local s = states[i]
  if s then
    if s[2] then
      redis.call('SET', KEYS[i], s[1], 'PX', s[2])
    else
      redis.call('SET', KEYS[i], s[1])
    end
  end
end
if plan then
  redis.call('HINCRBY', KEYS[5], tostring(today), 1)
  redis.call('EXPIRE', KEYS[5], ARGV[18])
end
return 0
"#
);

/// UpdateUsage's `replace /remaining`: records today the adjustment that makes what remains
/// of the period `target`. KEYS: the usage hash. ARGV: `today period_start allowance target`.
const SET_REMAINING: &str = with_period_left!(
    r#"
local today = tonumber(ARGV[1])
local left = period_left(KEYS[1], tonumber(ARGV[2]), today, tonumber(ARGV[3]))
redis.call('HINCRBY', KEYS[1], 'a' .. today, tonumber(ARGV[4]) - left)
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 0
"#
);

/// TLS settings for a `rediss://` Redis server.
#[derive(Clone, Default)]
pub struct RedisTls {
    /// Certificates (PEM) to trust for the server's certificate, instead of the system's
    /// roots.
    pub ca_pem: Option<Vec<u8>>,
    /// A client certificate chain and its private key (both PEM), for servers that ask for
    /// one (Redis's `tls-auth-clients`).
    pub client: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for RedisTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTls")
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "(certificates)"))
            .field(
                "client",
                &self.client.as_ref().map(|_| "(certificate and key)"),
            )
            .finish()
    }
}

impl RedisTls {
    fn is_set(&self) -> bool {
        self.ca_pem.is_some() || self.client.is_some()
    }
}

/// The [`Limiter`] on a Redis server shared by the nodes.
pub struct RedisLimiter {
    /// For the gateway: multiplexed, reconnecting.
    connection: ConnectionManager,
    /// For the control plane's calls, which are synchronous (they run on blocking threads).
    blocking: Mutex<Option<redis::Connection>>,
    client: redis::Client,
    check: Arc<redis::Script>,
    set_remaining: redis::Script,
    /// When the last "Redis did not answer" warning was logged.
    last_warning: Arc<Mutex<Option<std::time::Instant>>>,
    /// How long a request waits for Redis before it is let through.
    answer_timeout: Duration,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter").finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// Connects to the Redis server at `url` (`redis://host:port/db`, or `rediss://` for
    /// TLS with `tls`); requests wait [`ANSWER_TIMEOUT`] for its answers.
    pub async fn connect(url: &str, tls: &RedisTls) -> redis::RedisResult<RedisLimiter> {
        RedisLimiter::connect_answering_within(url, tls, ANSWER_TIMEOUT).await
    }

    /// Connects as [`RedisLimiter::connect`] does; requests wait `answer_timeout` for
    /// Redis's answers before they are let through.
    pub async fn connect_answering_within(
        url: &str,
        tls: &RedisTls,
        answer_timeout: Duration,
    ) -> redis::RedisResult<RedisLimiter> {
        let client = if url.starts_with("rediss://") {
            redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: tls.client.clone().map(|(client_cert, client_key)| {
                        redis::ClientTlsConfig {
                            client_cert,
                            client_key,
                        }
                    }),
                    root_cert: tls.ca_pem.clone(),
                },
            )?
        } else if tls.is_set() {
            return Err(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "TLS settings for Redis need a rediss:// URL",
            )));
        } else {
            redis::Client::open(url)?
        };
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(answer_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let connection = ConnectionManager::new_with_config(client.clone(), config).await?;
        Ok(RedisLimiter {
            connection,
            blocking: Mutex::new(None),
            client,
            check: Arc::new(redis::Script::new(CHECK)),
            set_remaining: redis::Script::new(SET_REMAINING),
            last_warning: Arc::new(Mutex::new(None)),
            answer_timeout,
        })
    }

    /// The multiplexed connection, for others to share.
    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// Runs `f` on the blocking connection, made (again) when missing or broken.
    fn blocking<T>(
        &self,
        f: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<T> {
        let mut slot = self.blocking.lock().unwrap_or_else(PoisonError::into_inner);
        let connection = match slot.take() {
            Some(connection) if connection.is_open() => connection,
            _ => {
                let connection = self
                    .client
                    .get_connection_with_timeout(Duration::from_secs(5))?;
                connection.set_read_timeout(Some(Duration::from_secs(5)))?;
                connection
            }
        };
        let connection = slot.insert(connection);
        let result = f(connection);
        if result.is_err() {
            *slot = None;
        }
        result
    }

    /// The script's keys and arguments for a request.
    fn invocation(&self, request: &Request<'_>, now: Now) -> (Vec<String>, Vec<String>) {
        let method = &request.method;
        let scope = format!("{}/{}/{}", method.api_id, method.stage, method.method_key);
        let plan = request.plan.as_ref();
        let plan_scope = plan.map(|p| format!("{}/{}", p.key.plan_id, p.key.key_id));
        let keys = vec![
            format!(
                "cw:b:pm:{}/{scope}",
                plan_scope.as_deref().unwrap_or_default()
            ),
            format!("cw:b:p:{}", plan_scope.as_deref().unwrap_or_default()),
            format!("cw:b:s:{scope}"),
            "cw:b:acct".to_owned(),
            usage_key(plan_scope.as_deref().unwrap_or_default()),
        ];
        let mut args = Vec::with_capacity(18);
        for level in [
            plan.and_then(|p| p.method_throttle),
            plan.and_then(|p| p.limits.throttle),
            request.stage_throttle,
            request.account_throttle,
        ] {
            push_throttle(&mut args, level);
        }
        let quota = plan.and_then(|p| p.limits.quota.map(|q| (q, p.limits.quota_start)));
        args.push(flag(plan.is_some()));
        args.push(flag(quota.is_some()));
        args.push(now.today.0.to_string());
        match quota {
            Some((quota, quota_start)) => {
                let start = quota.period.start(now.today);
                args.push(start.0.to_string());
                args.push(quota.allowance(start, quota_start).to_string());
            }
            None => {
                args.push(now.today.0.to_string());
                args.push("0".to_owned());
            }
        }
        args.push(USAGE_TTL_SECONDS.to_string());
        (keys, args)
    }
}

fn usage_key(plan_scope: &str) -> String {
    format!("cw:u:{plan_scope}")
}

/// The usage hash of a key in a plan.
fn usage_key_of(plan_id: &str, key_id: &str) -> String {
    usage_key(&format!("{plan_id}/{key_id}"))
}

fn flag(on: bool) -> String {
    if on { "1" } else { "0" }.to_owned()
}

fn push_throttle(args: &mut Vec<String>, throttle: Option<ThrottleConfig>) {
    match throttle {
        Some(config) => {
            args.push("1".to_owned());
            let rate = if config.rate_limit.is_nan() {
                0.0
            } else {
                config.rate_limit
            };
            args.push(rate.to_string());
            args.push(config.burst_limit.to_string());
        }
        None => args.extend(["0".to_owned(), "0".to_owned(), "0".to_owned()]),
    }
}

fn decision(code: i64) -> Decision {
    match code {
        1 => Decision::Throttled(Level::PlanMethod),
        2 => Decision::Throttled(Level::Plan),
        3 => Decision::Throttled(Level::StageMethod),
        4 => Decision::Throttled(Level::Account),
        5 => Decision::QuotaExceeded,
        _ => Decision::Allow,
    }
}

/// Glob metacharacters escaped, for `SCAN MATCH`.
fn glob_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Limiter for RedisLimiter {
    fn check(&self, request: &Request<'_>, now: Now) -> Decision {
        let (keys, args) = self.invocation(request, now);
        let mut invocation = self.check.prepare_invoke();
        for key in &keys {
            invocation.key(key);
        }
        for arg in &args {
            invocation.arg(arg);
        }
        match self.blocking(|connection| invocation.invoke::<i64>(connection)) {
            Ok(code) => decision(code),
            Err(error) => {
                tracing::warn!(%error, "Redis did not decide; the request is let through");
                Decision::Allow
            }
        }
    }

    fn admit(&self, request: &Request<'_>, now: Now) -> Checking {
        if request.plan.is_none()
            && request.stage_throttle.is_none()
            && request.account_throttle.is_none()
        {
            // Nothing to count: no round trip.
            return Checking::Ready(Decision::Allow);
        }
        let (keys, args) = self.invocation(request, now);
        let mut connection = self.connection.clone();
        let script = self.check.clone();
        let last_warning = self.last_warning.clone();
        let answer_timeout = self.answer_timeout;
        Checking::Pending(Box::pin(async move {
            let mut invocation = script.prepare_invoke();
            for key in &keys {
                invocation.key(key);
            }
            for arg in &args {
                invocation.arg(arg);
            }
            let answer = tokio::time::timeout(
                answer_timeout,
                invocation.invoke_async::<i64>(&mut connection),
            )
            .await;
            match answer {
                Ok(Ok(code)) => decision(code),
                Ok(Err(error)) => {
                    warn_rarely(&last_warning, &error.to_string());
                    Decision::Allow
                }
                Err(_) => {
                    warn_rarely(&last_warning, "no answer in time");
                    Decision::Allow
                }
            }
        }))
    }

    fn usage(&self, key: PlanKey<'_>, limits: &PlanLimits, from: Day, to: Day) -> Vec<UsageDay> {
        let hash = usage_key_of(key.plan_id, key.key_id);
        let fields: Vec<(String, i64)> =
            match self.blocking(|connection| redis::cmd("HGETALL").arg(&hash).query(connection)) {
                Ok(fields) => fields,
                Err(error) => {
                    tracing::warn!(%error, "cannot read usage from Redis");
                    Vec::new()
                }
            };
        let mut days: std::collections::BTreeMap<i32, DayUsage> = std::collections::BTreeMap::new();
        for (field, value) in fields {
            let (adjustment, day) = match field.strip_prefix('a') {
                Some(day) => (true, day),
                None => (false, field.as_str()),
            };
            let Ok(day) = day.parse::<i32>() else {
                continue;
            };
            let entry = days.entry(day).or_insert(DayUsage {
                day: Day(day),
                used: 0,
                adjustment: 0,
            });
            if adjustment {
                entry.adjustment = value;
            } else {
                entry.used = u64::try_from(value).unwrap_or_default();
            }
        }
        let days: Vec<DayUsage> = days.into_values().collect();
        causeway_limits::daily_usage(limits, &days, from, to)
    }

    fn set_remaining(
        &self,
        key: PlanKey<'_>,
        limits: &PlanLimits,
        remaining: u64,
        today: Day,
    ) -> Result<(), LimitsError> {
        let quota = limits.quota.as_ref().ok_or(LimitsError::NoQuota)?;
        let start = quota.period.start(today);
        let hash = usage_key_of(key.plan_id, key.key_id);
        let allowance = quota.allowance(start, limits.quota_start);
        let result = self.blocking(|connection| {
            self.set_remaining
                .key(&hash)
                .arg(today.0)
                .arg(start.0)
                .arg(allowance)
                .arg(remaining)
                .arg(USAGE_TTL_SECONDS)
                .invoke::<i64>(connection)
        });
        result.map(|_| ()).map_err(|error| {
            tracing::error!(%error, "cannot update usage in Redis");
            LimitsError::Unavailable(error.to_string())
        })
    }

    fn drain_dirty(&self) -> Vec<UsageRecord> {
        // Redis keeps the usage; nothing to hand over.
        Vec::new()
    }

    fn restore(&self, records: Vec<UsageRecord>) {
        // Usage the store kept from before Redis counted (a single node that grew): added
        // where Redis has nothing for that day, so a restart never counts a day twice.
        for record in records {
            let hash = usage_key_of(&record.plan_id, &record.key_id);
            let day = record.usage.day.0;
            let result = self.blocking(|connection| {
                redis::pipe()
                    .cmd("HSETNX")
                    .arg(&hash)
                    .arg(day.to_string())
                    .arg(record.usage.used)
                    .ignore()
                    .cmd("HSETNX")
                    .arg(&hash)
                    .arg(format!("a{day}"))
                    .arg(record.usage.adjustment)
                    .ignore()
                    .cmd("EXPIRE")
                    .arg(&hash)
                    .arg(USAGE_TTL_SECONDS)
                    .ignore()
                    .query::<()>(connection)
            });
            if let Err(error) = result {
                tracing::warn!(%error, "cannot restore usage into Redis");
                return;
            }
        }
    }

    fn forget(&self, what: Forget<'_>) {
        let patterns = match what {
            Forget::Key(key_id) => {
                let key = glob_literal(key_id);
                vec![
                    format!("cw:u:*/{key}"),
                    format!("cw:b:p:*/{key}"),
                    format!("cw:b:pm:*/{key}/*"),
                ]
            }
            Forget::Plan(plan_id) => {
                let plan = glob_literal(plan_id);
                vec![
                    format!("cw:u:{plan}/*"),
                    format!("cw:b:p:{plan}/*"),
                    format!("cw:b:pm:{plan}/*"),
                ]
            }
            Forget::PlanKey(key) => {
                let scope = format!("{}/{}", glob_literal(key.plan_id), glob_literal(key.key_id));
                vec![
                    format!("cw:u:{scope}"),
                    format!("cw:b:p:{scope}"),
                    format!("cw:b:pm:{scope}/*"),
                ]
            }
            Forget::Stage { api_id, stage } => {
                let scope = format!("{}/{}", glob_literal(api_id), glob_literal(stage));
                vec![
                    format!("cw:b:s:{scope}/*"),
                    format!("cw:b:pm:*/*/{scope}/*"),
                ]
            }
        };
        for pattern in patterns {
            let result = self.blocking(|connection| {
                let keys = connection
                    .scan_match::<_, String>(&pattern)?
                    .collect::<Result<Vec<String>, _>>()?;
                if !keys.is_empty() {
                    redis::cmd("UNLINK").arg(&keys).query::<()>(connection)?;
                }
                Ok(())
            });
            if let Err(error) = result {
                tracing::warn!(%error, %pattern, "cannot forget limiter state in Redis");
            }
        }
    }
}

fn warn_rarely(last: &Mutex<Option<std::time::Instant>>, error: &str) {
    let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
    if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
        *last = Some(std::time::Instant::now());
        tracing::warn!(%error, "Redis did not decide; requests are let through");
    }
}
