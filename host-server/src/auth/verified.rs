//! Tokens this process has already verified. A client sends the same bearer token with every
//! request; checking its signature and parsing its header and claims each time cost about as much
//! as deciding the booking. A token's verdict depends only on its bytes, the verifier's fixed keys
//! and the clock, so the principal is kept with the token's `exp` and `nbf` and the clock is
//! checked again on every use. Only accepted tokens are kept; the map is cleared when full, so a
//! flood of distinct tokens costs memory for at most [`CAPACITY`] of them.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{LEEWAY_SECS, Principal};

/// Most tokens remembered.
pub const CAPACITY: usize = 4096;

struct Verified {
    principal: Principal,
    exp: u64,
    nbf: Option<u64>,
}

impl Verified {
    /// Still acceptable at `now` (Unix seconds), with the verifier's leeway.
    fn valid_at(&self, now: u64) -> bool {
        now <= self.exp.saturating_add(LEEWAY_SECS)
            && self
                .nbf
                .is_none_or(|nbf| nbf <= now.saturating_add(LEEWAY_SECS))
    }
}

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<Box<str>, Verified>>,
}

impl VerifiedTokens {
    /// The principal of `token` if it was verified before and is still valid at `now`.
    pub fn get(&self, token: &str, now: u64) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(token)
            .filter(|v| v.valid_at(now))
            .map(|v| v.principal.clone())
    }

    /// Remembers a token that was just verified.
    pub fn insert(&self, token: &str, principal: Principal, exp: u64, nbf: Option<u64>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            token.into(),
            Verified {
                principal,
                exp,
                nbf,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn principal() -> Principal {
        Principal::new("u1", Role::Guest, &[])
    }

    #[test]
    fn a_kept_token_expires_with_the_same_leeway() {
        let tokens = VerifiedTokens::default();
        tokens.insert("t", principal(), 1_000, None);
        assert_eq!(tokens.get("t", 1_000), Some(principal()));
        assert_eq!(tokens.get("t", 1_000 + LEEWAY_SECS), Some(principal()));
        assert_eq!(tokens.get("t", 1_001 + LEEWAY_SECS), None);
        assert_eq!(tokens.get("other", 1_000), None);
    }

    #[test]
    fn a_kept_token_is_not_used_before_its_nbf() {
        let tokens = VerifiedTokens::default();
        tokens.insert("t", principal(), 10_000, Some(5_000));
        assert_eq!(tokens.get("t", 5_000 - LEEWAY_SECS - 1), None);
        assert_eq!(tokens.get("t", 5_000 - LEEWAY_SECS), Some(principal()));
    }

    #[test]
    fn the_map_stays_bounded() {
        let tokens = VerifiedTokens::default();
        for i in 0..=CAPACITY {
            tokens.insert(&format!("t{i}"), principal(), 1_000, None);
        }
        let len = tokens.entries.lock().unwrap().len();
        assert!(len <= CAPACITY, "{len}");
    }
}
