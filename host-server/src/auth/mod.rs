//! Who is calling, and what they may do.
//!
//! Callers present a bearer JWT. The server verifies it with exactly one configured key source —
//! an HS256 secret (by default `DATA_DIR/auth-secret`, created on first start with mode 0600),
//! an EdDSA / RS256 / ES256 public key (PEM), or a JWKS file — and never lets the token choose
//! the algorithm family: the accepted algorithms come from the key, so `alg: none` and HS/RS
//! confusion are refused. Claims: `sub`, `role` (`guest` | `staff` | `admin` | `service`),
//! `restaurants` (the restaurants a staff member manages) and `exp` (required; 30 s leeway).
//!
//! The rules themselves ([`Principal`]) are plain functions of the claims, used by the HTTP
//! handlers once they know which restaurant or guest a request touches.

pub mod secret;
pub mod token;
mod verified;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// Seconds of clock skew tolerated on `exp` (and `nbf`).
pub const LEEWAY_SECS: u64 = 30;
/// Longest bearer token accepted (a few claims fit in far less).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Longest `sub` accepted.
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Most restaurants one staff token may name.
pub const MAX_TOKEN_RESTAURANTS: usize = 1000;

/// What a caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Books, reads, modifies and cancels their own reservations (`sub` is their user id).
    Guest,
    /// Manages the reservations and settings of the restaurants in `restaurants`.
    Staff,
    /// Registers restaurants and may do anything.
    Admin,
    /// Another platform service: reads the event feed and the metrics, nothing else.
    Service,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Staff => "staff",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }
}

/// The claims this service reads (other claims are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restaurants: Vec<String>,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    restaurants: BTreeSet<String>,
}

impl Principal {
    pub fn new(subject: impl Into<String>, role: Role, restaurants: &[String]) -> Self {
        Principal {
            subject: subject.into(),
            role,
            restaurants: if role == Role::Staff {
                restaurants.iter().cloned().collect()
            } else {
                BTreeSet::new()
            },
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Admin, or staff of `restaurant`.
    pub fn manages(&self, restaurant: &str) -> bool {
        self.is_admin() || (self.role == Role::Staff && self.restaurants.contains(restaurant))
    }

    /// May read or change this reservation (of `restaurant`, booked for `user`)?
    pub fn may_see_reservation(&self, restaurant: &str, user: &str) -> bool {
        self.manages(restaurant) || (self.role == Role::Guest && self.subject == user)
    }

    /// May book at `restaurant` (guests anywhere, for themselves; staff at their own; admin).
    pub fn may_book_at(&self, restaurant: &str) -> bool {
        self.role == Role::Guest || self.manages(restaurant)
    }

    /// May read the global event feed and the metrics.
    pub fn may_read_feed(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Service)
    }

    /// The restaurants a staff member manages (empty for other roles).
    pub fn restaurants(&self) -> &BTreeSet<String> {
        &self.restaurants
    }
}

/// Why a token was refused (all 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("the Authorization header must be `Bearer <token>`")]
    NotBearer,
    #[error("the token has expired")]
    Expired,
    #[error("invalid token")]
    Invalid,
}

/// Key and issuer settings (flags with env fallbacks). With none of the three key sources the
/// server uses an HS256 secret in `DATA_DIR/auth-secret`, created on first start.
#[derive(Debug, Clone, Default, Args)]
pub struct AuthSettings {
    /// HS256 secret file (at least 32 bytes; must not be readable by group or others).
    /// Default: `DATA_DIR/auth-secret`, created with mode 0600 on first start.
    #[arg(long, env = "RESERVATION_AUTH_SECRET_FILE", global = true)]
    pub auth_secret_file: Option<PathBuf>,
    /// Public key (PEM: Ed25519 → EdDSA, RSA → RS256, P-256 → ES256) of the identity provider
    /// that signs tokens. Replaces the secret: HS256 tokens are then refused.
    #[arg(long, env = "RESERVATION_AUTH_PUBLIC_KEY", global = true)]
    pub auth_public_key: Option<PathBuf>,
    /// JWKS file (`{"keys": [...]}`) of the identity provider; a token's `kid` picks the key.
    #[arg(long, env = "RESERVATION_AUTH_JWKS", global = true)]
    pub auth_jwks: Option<PathBuf>,
    /// Required `iss` claim, if set.
    #[arg(long, env = "RESERVATION_AUTH_ISSUER", global = true)]
    pub auth_issuer: Option<String>,
    /// Required `aud` claim, if set.
    #[arg(long, env = "RESERVATION_AUTH_AUDIENCE", global = true)]
    pub auth_audience: Option<String>,
}

/// Where the verifying key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The HS256 secret file (possibly the default one, created on demand).
    Secret {
        path: PathBuf,
        default: bool,
    },
    PublicKey(PathBuf),
    Jwks(PathBuf),
}

impl AuthSettings {
    /// The one key source these settings name (the default secret under `data_dir` if none).
    pub fn key_source(&self, data_dir: &Path) -> anyhow::Result<KeySource> {
        let chosen = [
            self.auth_secret_file.is_some(),
            self.auth_public_key.is_some(),
            self.auth_jwks.is_some(),
        ]
        .iter()
        .filter(|set| **set)
        .count();
        if chosen > 1 {
            anyhow::bail!(
                "choose one of --auth-secret-file, --auth-public-key and --auth-jwks, not several"
            );
        }
        Ok(if let Some(path) = &self.auth_public_key {
            KeySource::PublicKey(path.clone())
        } else if let Some(path) = &self.auth_jwks {
            KeySource::Jwks(path.clone())
        } else if let Some(path) = &self.auth_secret_file {
            KeySource::Secret {
                path: path.clone(),
                default: false,
            }
        } else {
            KeySource::Secret {
                path: secret::default_path(data_dir),
                default: true,
            }
        })
    }
}

/// One verifying key and the algorithm it accepts.
struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Verifies bearer tokens.
pub struct Verifier {
    keys: Vec<Key>,
    issuer: Option<String>,
    audience: Option<String>,
    verified: verified::VerifiedTokens,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field(
                "algorithms",
                &self.keys.iter().map(|k| k.algorithm).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Verifies HS256 tokens signed with `secret`.
    pub fn hs256(secret: &[u8]) -> Verifier {
        Verifier {
            keys: vec![Key {
                kid: None,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret),
            }],
            issuer: None,
            audience: None,
            verified: verified::VerifiedTokens::default(),
        }
    }

    /// Verifies tokens signed by the private half of a PEM public key (Ed25519 → EdDSA,
    /// RSA → RS256, P-256 → ES256).
    pub fn public_key_pem(pem: &[u8]) -> anyhow::Result<Verifier> {
        let (algorithm, key) = if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            (Algorithm::EdDSA, key)
        } else if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            (Algorithm::RS256, key)
        } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            (Algorithm::ES256, key)
        } else {
            anyhow::bail!("not a PEM public key of a supported type (Ed25519, RSA, P-256)");
        };
        Ok(Verifier {
            keys: vec![Key {
                kid: None,
                algorithm,
                key,
            }],
            issuer: None,
            audience: None,
            verified: verified::VerifiedTokens::default(),
        })
    }

    /// Verifies tokens signed by any asymmetric key of a JWKS document (symmetric `oct` keys
    /// are refused: a JWKS is public).
    pub fn jwks_json(json: &[u8]) -> anyhow::Result<Verifier> {
        let set: JwkSet = serde_json::from_slice(json)
            .map_err(|e| anyhow::anyhow!("not a JWKS document: {e}"))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let algorithm = match jwk.common.key_algorithm {
                Some(alg) => {
                    use jsonwebtoken::jwk::KeyAlgorithm as K;
                    match alg {
                        K::RS256 => Algorithm::RS256,
                        K::RS384 => Algorithm::RS384,
                        K::RS512 => Algorithm::RS512,
                        K::PS256 => Algorithm::PS256,
                        K::PS384 => Algorithm::PS384,
                        K::PS512 => Algorithm::PS512,
                        K::ES256 => Algorithm::ES256,
                        K::ES384 => Algorithm::ES384,
                        K::EdDSA => Algorithm::EdDSA,
                        other => anyhow::bail!("unsupported key algorithm {other:?}"),
                    }
                }
                None => match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    _ => anyhow::bail!("a key without `alg` must be RSA, OKP or EC"),
                },
            };
            if matches!(
                algorithm,
                Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
            ) {
                anyhow::bail!("symmetric keys do not belong in a JWKS file");
            }
            let key = DecodingKey::from_jwk(jwk).map_err(|e| anyhow::anyhow!("bad key: {e}"))?;
            keys.push(Key {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key,
            });
        }
        if keys.is_empty() {
            anyhow::bail!("the JWKS document has no keys");
        }
        Ok(Verifier {
            keys,
            issuer: None,
            audience: None,
            verified: verified::VerifiedTokens::default(),
        })
    }

    /// Requires `iss` and/or `aud`.
    pub fn with_issuer_and_audience(
        mut self,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Verifier {
        self.issuer = issuer;
        self.audience = audience;
        self
    }

    /// Loads the verifier the settings name, creating the default secret if needed.
    pub fn load(settings: &AuthSettings, data_dir: &Path) -> anyhow::Result<Verifier> {
        let verifier = match settings.key_source(data_dir)? {
            KeySource::Secret { path, default } => {
                let secret = if default {
                    secret::load_or_create(&path)?
                } else {
                    secret::load(&path)?
                };
                Verifier::hs256(&secret)
            }
            KeySource::PublicKey(path) => {
                let pem = std::fs::read(&path)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
                Verifier::public_key_pem(&pem)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            KeySource::Jwks(path) => {
                let json = std::fs::read(&path)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
                Verifier::jwks_json(&json)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
        };
        Ok(verifier
            .with_issuer_and_audience(settings.auth_issuer.clone(), settings.auth_audience.clone()))
    }

    /// The algorithms this verifier accepts.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        self.keys.iter().map(|k| k.algorithm).collect()
    }

    /// Verifies `token` and returns who it speaks for.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid);
        }
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(principal) = self.verified.get(token, now) {
            return Ok(principal);
        }
        let claims = self.verify_signed(token)?;
        let (exp, nbf) = (claims.exp, claims.nbf);
        let principal = principal(claims)?;
        self.verified.insert(token, principal.clone(), exp, nbf);
        Ok(principal)
    }

    /// The full check: key, algorithm, signature and registered claims.
    fn verify_signed(&self, token: &str) -> Result<Claims, AuthError> {
        // The unverified header only picks the key; the key fixes the algorithm.
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        let only = match self.keys.as_slice() {
            [only] => Some(only),
            _ => None,
        };
        let key = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid.as_str()))
                .or(only.filter(|k| k.kid.is_none())),
            None => only,
        }
        .ok_or(AuthError::Invalid)?;
        if header.alg != key.algorithm {
            return Err(AuthError::Invalid);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
        }
        let data =
            jsonwebtoken::decode::<Claims>(token, &key.key, &validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                    _ => AuthError::Invalid,
                }
            })?;
        Ok(data.claims)
    }
}

/// Checks the claims' own rules and makes the principal.
fn principal(claims: Claims) -> Result<Principal, AuthError> {
    let subject = claims.sub.trim();
    if subject.is_empty()
        || subject.len() != claims.sub.len()
        || claims.sub.chars().count() > MAX_SUBJECT_CHARS
        || claims.sub.chars().any(char::is_control)
        || claims.restaurants.len() > MAX_TOKEN_RESTAURANTS
    {
        return Err(AuthError::Invalid);
    }
    // A guest's subject is their user id: it must be one.
    if claims.role == Role::Guest
        && reservation_core::ids::UserId::parse(claims.sub.as_str()).is_err()
    {
        return Err(AuthError::Invalid);
    }
    Ok(Principal::new(claims.sub, claims.role, &claims.restaurants))
}

/// Signs HS256 tokens (the `token` subcommand; tests).
pub fn sign_hs256(secret: &[u8], claims: &Claims) -> anyhow::Result<String> {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .map_err(|e| anyhow::anyhow!("signing the token: {e}"))
}

/// Claims for `role`/`subject`, valid for `ttl_secs` from now.
pub fn claims(role: Role, subject: &str, restaurants: &[String], ttl_secs: u64) -> Claims {
    let now = jsonwebtoken::get_current_timestamp();
    Claims {
        sub: subject.to_owned(),
        role,
        restaurants: restaurants.to_vec(),
        exp: now.saturating_add(ttl_secs),
        iat: Some(now),
        nbf: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_signed_token_verifies_to_its_principal() {
        let verifier = Verifier::hs256(SECRET);
        let token =
            sign_hs256(SECRET, &claims(Role::Staff, "ada", &["r1".to_owned()], 60)).unwrap();
        let who = verifier.verify(&token).unwrap();
        assert_eq!(who.role, Role::Staff);
        assert!(who.manages("r1"));
        assert!(!who.manages("r2"));
        assert!(!who.is_admin());
    }

    #[test]
    fn expired_wrong_key_and_garbage_are_refused() {
        let verifier = Verifier::hs256(SECRET);
        let mut old = claims(Role::Admin, "root", &[], 0);
        old.exp = jsonwebtoken::get_current_timestamp() - LEEWAY_SECS - 5;
        let expired = sign_hs256(SECRET, &old).unwrap();
        assert_eq!(verifier.verify(&expired), Err(AuthError::Expired));
        let other = sign_hs256(
            b"another secret, another secret!!",
            &claims(Role::Admin, "x", &[], 60),
        )
        .unwrap();
        assert_eq!(verifier.verify(&other), Err(AuthError::Invalid));
        for garbage in ["", "a.b.c", "x", "..", "eyJhbGciOiJub25lIn0.e30."] {
            assert_eq!(
                verifier.verify(garbage),
                Err(AuthError::Invalid),
                "{garbage}"
            );
        }
    }

    #[test]
    fn a_remembered_token_does_not_vouch_for_a_tampered_copy_or_an_early_one() {
        let verifier = Verifier::hs256(SECRET);
        let token = sign_hs256(SECRET, &claims(Role::Admin, "root", &[], 60)).unwrap();
        assert!(verifier.verify(&token).is_ok());
        assert!(verifier.verify(&token).is_ok(), "and again, from memory");
        let mut tampered = token.clone();
        let last = if tampered.ends_with('A') { "B" } else { "A" };
        tampered.replace_range(tampered.len() - 1.., last);
        assert_eq!(verifier.verify(&tampered), Err(AuthError::Invalid));
        let mut early = claims(Role::Admin, "root", &[], 600);
        early.nbf = Some(jsonwebtoken::get_current_timestamp() + LEEWAY_SECS + 60);
        let early = sign_hs256(SECRET, &early).unwrap();
        assert_eq!(verifier.verify(&early), Err(AuthError::Invalid));
        assert_eq!(verifier.verify(&early), Err(AuthError::Invalid));
    }

    #[test]
    fn guests_need_a_user_id_subject_and_roles_limit_restaurants() {
        let verifier = Verifier::hs256(SECRET);
        let bad = sign_hs256(SECRET, &claims(Role::Guest, " x", &[], 60)).unwrap();
        assert_eq!(verifier.verify(&bad), Err(AuthError::Invalid));
        let guest = sign_hs256(SECRET, &claims(Role::Guest, "u1", &["r1".into()], 60)).unwrap();
        let who = verifier.verify(&guest).unwrap();
        assert!(!who.manages("r1"), "restaurants only count for staff");
        assert!(who.may_see_reservation("r9", "u1"));
        assert!(!who.may_see_reservation("r9", "u2"));
    }

    #[test]
    fn only_one_key_source_may_be_configured() {
        let settings = AuthSettings {
            auth_secret_file: Some("a".into()),
            auth_jwks: Some("b".into()),
            ..AuthSettings::default()
        };
        assert!(settings.key_source(Path::new("/d")).is_err());
        assert_eq!(
            AuthSettings::default().key_source(Path::new("/d")).unwrap(),
            KeySource::Secret {
                path: PathBuf::from("/d/auth-secret"),
                default: true
            }
        );
    }
}
