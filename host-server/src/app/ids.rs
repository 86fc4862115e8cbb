//! New reservation ids (UUIDv7: time-ordered) and ids derived from an `Idempotency-Key`
//! (UUIDv5: the same restaurant, user and key always give the same reservation id, so a retry
//! meets the core's idempotent path instead of booking twice).

use reservation_core::ids::{ReservationId, RestaurantId, UserId};
use reservation_core::{DomainError, ErrorCode};
use uuid::Uuid;

/// The namespace of ids derived from idempotency keys (fixed forever: changing it would turn
/// retries of earlier requests into new bookings).
const IDEMPOTENCY_NAMESPACE: Uuid = Uuid::from_u128(0x5f1c_2a7e_8d3b_4c69_9e0a_b1d2_c3e4_f506);

/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

pub fn new_reservation_id() -> Result<ReservationId, DomainError> {
    reservation_id(Uuid::now_v7())
}

/// The reservation id a request with `key` stands for.
pub fn from_idempotency_key(
    restaurant: &RestaurantId,
    user: &UserId,
    key: &str,
) -> Result<ReservationId, DomainError> {
    // Ids cannot contain NUL, so the parts cannot run into each other.
    let name = format!("{restaurant}\0{user}\0{key}");
    reservation_id(Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, name.as_bytes()))
}

/// Checks an `Idempotency-Key` header value: 1 to 255 visible ASCII characters.
pub fn check_idempotency_key(key: &str) -> Result<(), DomainError> {
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_LEN
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(DomainError::new(
            ErrorCode::InvalidId,
            format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
            ),
        )
        .with_field("Idempotency-Key"));
    }
    Ok(())
}

/// A hyphenated UUID is 36 characters of hex digits and `-`: always a valid id.
fn reservation_id(uuid: Uuid) -> Result<ReservationId, DomainError> {
    ReservationId::parse(uuid.hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_derive_stable_distinct_ids() {
        let r = RestaurantId::parse("r1").unwrap();
        let u = UserId::parse("u1").unwrap();
        let key = |r: &RestaurantId, u: &UserId, k: &str| from_idempotency_key(r, u, k).unwrap();
        let a = key(&r, &u, "k1");
        assert_eq!(a, key(&r, &u, "k1"));
        assert_ne!(a, key(&r, &u, "k2"));
        assert_ne!(a, key(&r, &UserId::parse("u2").unwrap(), "k1"));
        assert_ne!(a, key(&RestaurantId::parse("r2").unwrap(), &u, "k1"));
        assert_eq!(a.as_str().len(), 36);
    }

    #[test]
    fn new_ids_are_time_ordered_uuids() {
        let a = new_reservation_id().unwrap();
        let b = new_reservation_id().unwrap();
        assert_ne!(a, b);
        assert_eq!(Uuid::parse_str(a.as_str()).unwrap().get_version_num(), 7);
    }

    #[test]
    fn keys_are_checked() {
        assert!(check_idempotency_key("abc-123").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key("a b").is_err());
        assert!(check_idempotency_key(&"k".repeat(256)).is_err());
    }
}
