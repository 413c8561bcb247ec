//! GetAccount, UpdateAccount: the account's CloudWatch role, throttle limits and features.

use causeway_model::usage::ThrottleSettings;
use causeway_model::{ApiError, patch};
use causeway_wire::output;

use crate::Reply;
use crate::ctx::{Ctx, json, patch_operations};
use crate::state::kind;

/// The account-wide throttle of the server's configuration, in the wire's integer range.
fn throttle(cx: &Ctx<'_>) -> ThrottleSettings {
    let limits = cx.config.account_throttle;
    ThrottleSettings {
        burst_limit: i32::try_from(limits.burst_limit).unwrap_or(i32::MAX),
        rate_limit: limits.rate_limit,
    }
}

pub fn get(cx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    json(
        200,
        &output::Account::from_model(cx.state.account(), throttle(cx)),
    )
}

pub fn update(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateAccountInput")?;
    let updated = patch::apply_account(cx.state.account(), &ops)?;
    cx.put(kind::ACCOUNT, kind::ACCOUNT_KEY.to_owned(), &updated)?;
    let reply = output::Account::from_model(&updated, throttle(cx));
    cx.state.account = updated;
    json(200, &reply)
}
