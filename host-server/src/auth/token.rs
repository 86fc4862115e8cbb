//! `reservation-server token`: prints a bearer token signed with the server's HS256 secret.

use std::path::Path;

use clap::Args;

use super::{AuthSettings, KeySource, MAX_SUBJECT_CHARS, Role, claims, secret, sign_hs256};

/// Longest lifetime the `token` subcommand signs (a year).
pub const MAX_TTL_SECS: u64 = 366 * 24 * 3600;

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// What the caller is.
    #[arg(long, value_enum)]
    pub role: Role,
    /// The `sub` claim: the user id of a guest, a name for the others.
    #[arg(long)]
    pub subject: String,
    /// A restaurant the staff member manages (repeatable; staff only).
    #[arg(long = "restaurant", value_name = "RESTAURANT_ID")]
    pub restaurants: Vec<String>,
    /// Lifetime, e.g. `15m`, `1h`, `7d` (at most a year).
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub ttl: u64,
}

/// Parses a lifetime such as `90s`, `15m`, `1h 30m`, `7d` or `PT1H` into seconds.
pub fn parse_ttl(raw: &str) -> Result<u64, String> {
    let span: jiff::Span = raw
        .trim()
        .parse()
        .map_err(|e| format!("not a duration ({e}); try 15m, 1h or 7d"))?;
    let seconds = span
        .total((jiff::Unit::Second, jiff::civil::date(2000, 1, 1)))
        .map_err(|e| format!("not a duration: {e}"))?;
    if !(1.0..=MAX_TTL_SECS as f64).contains(&seconds) {
        return Err(format!(
            "the lifetime must be between 1 s and {} days",
            MAX_TTL_SECS / 86_400
        ));
    }
    Ok(seconds as u64)
}

/// The token the arguments ask for, signed with the secret the settings name (creating the
/// default secret if it does not exist yet, exactly as the server would).
pub fn issue(settings: &AuthSettings, data_dir: &Path, args: &TokenArgs) -> anyhow::Result<String> {
    if args.subject.trim().is_empty()
        || args.subject.trim() != args.subject
        || args.subject.chars().count() > MAX_SUBJECT_CHARS
    {
        anyhow::bail!(
            "--subject must be 1–{MAX_SUBJECT_CHARS} characters without surrounding spaces"
        );
    }
    if args.role == Role::Guest
        && reservation_core::ids::UserId::parse(args.subject.as_str()).is_err()
    {
        anyhow::bail!(
            "a guest's --subject is their user id, and {:?} is not a valid one",
            args.subject
        );
    }
    if args.role != Role::Staff && !args.restaurants.is_empty() {
        anyhow::bail!("--restaurant only applies to --role staff");
    }
    let secret = match settings.key_source(data_dir)? {
        KeySource::Secret {
            path,
            default: true,
        } => {
            if !path.exists() {
                eprintln!("creating the auth secret {} (mode 0600)", path.display());
            }
            secret::load_or_create(&path)?
        }
        KeySource::Secret {
            path,
            default: false,
        } => secret::load(&path)?,
        KeySource::PublicKey(_) | KeySource::Jwks(_) => anyhow::bail!(
            "this server verifies tokens signed by an identity provider (--auth-public-key or \
             --auth-jwks); get tokens from it"
        ),
    };
    sign_hs256(
        &secret,
        &claims(args.role, &args.subject, &args.restaurants, args.ttl),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_parse_in_friendly_and_iso_forms() {
        assert_eq!(parse_ttl("1h").unwrap(), 3600);
        assert_eq!(parse_ttl("15m").unwrap(), 900);
        assert_eq!(parse_ttl("7d").unwrap(), 7 * 86_400);
        assert_eq!(parse_ttl("PT90S").unwrap(), 90);
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("soon").is_err());
    }
}
