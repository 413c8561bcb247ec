//! The counts of WAF rate-based rules shared by the nodes through Redis: about once a
//! second each node adds its new requests per rule and key to Redis and reads back every
//! node's count in the window ([`causeway_gateway::Gateway::waf_rates_to_share`]). Counting
//! stays in memory on the request path; a node learns of the others' requests within
//! [`EXCHANGE_EVERY`], as AWS WAF acts on a rate some seconds after it is reached.
//!
//! A key is a hash per web ACL, rule and aggregate key, a field per 10-second bucket on
//! Redis's clock (so that nodes whose clocks differ share one timeline), expiring a window
//! after its last request. While Redis does not answer, each node counts alone and sends
//! what it counted when Redis is back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use causeway_gateway::{Gateway, SharedRate};
use redis::aio::ConnectionManager;

/// How often the nodes exchange their counts.
pub const EXCHANGE_EVERY: Duration = Duration::from_secs(1);

/// Keys per script call, so that Redis is never held long by one.
const KEYS_PER_CALL: usize = 500;

/// The bucket size, in seconds: the gateway's.
const BUCKET_SECONDS: u64 = 10;

/// KEYS: the keys' hashes. ARGV: the bucket size, then per key `added window`. Adds each
/// key's requests to the current bucket and answers every key's count in its window, dropping
/// buckets past it.
const EXCHANGE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1])
local size = tonumber(ARGV[1])
local bucket = now - now % size
local out = {}
for i = 1, #KEYS do
  local added = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  if added > 0 then
    redis.call('HINCRBY', KEYS[i], bucket, added)
    redis.call('EXPIRE', KEYS[i], window + size)
  end
  local all = redis.call('HGETALL', KEYS[i])
  local total = 0
  for j = 1, #all, 2 do
    if tonumber(all[j]) + size > now - window then
      total = total + tonumber(all[j + 1])
    else
      redis.call('HDEL', KEYS[i], all[j])
    end
  end
  out[i] = total
end
return out
"#;

/// The Redis hash of a rule's key. `|` appears in no ARN, rule name or address.
fn hash_key(rate: &SharedRate) -> String {
    format!("cw:w:{}|{}|{}", rate.acl, rate.rule, rate.key)
}

/// Exchanges the gateway's counts with the other nodes every [`EXCHANGE_EVERY`], until
/// aborted.
pub async fn share(gateway: Arc<Gateway>, mut connection: ConnectionManager) {
    let script = redis::Script::new(EXCHANGE);
    let last_warning = Mutex::new(None::<std::time::Instant>);
    let mut ticks = tokio::time::interval(EXCHANGE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let sent = gateway.waf_rates_to_share();
        for chunk in sent.chunks(KEYS_PER_CALL) {
            match exchange(&mut connection, &script, chunk).await {
                Ok(totals) if totals.len() == chunk.len() => {
                    gateway.waf_rates_shared(chunk, Some(&totals));
                }
                outcome => {
                    gateway.waf_rates_shared(chunk, None);
                    let error = match outcome {
                        Ok(_) => "an answer of the wrong length".to_owned(),
                        Err(error) => error.to_string(),
                    };
                    let mut last = last_warning
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                        *last = Some(std::time::Instant::now());
                        tracing::warn!(
                            %error,
                            "cannot share WAF rate counts through Redis; this node counts alone"
                        );
                    }
                }
            }
        }
    }
}

async fn exchange(
    connection: &mut ConnectionManager,
    script: &redis::Script,
    rates: &[SharedRate],
) -> redis::RedisResult<Vec<u64>> {
    let mut invocation = script.prepare_invoke();
    invocation.arg(BUCKET_SECONDS);
    for rate in rates {
        invocation
            .key(hash_key(rate))
            .arg(rate.added)
            .arg(rate.window_seconds);
    }
    invocation.invoke_async(connection).await
}
