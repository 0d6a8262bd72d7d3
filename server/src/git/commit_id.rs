//! [`CommitId`]: a full commit id, validated once so the rest of voc never
//! handles a short or malformed sha.

use std::fmt;
use std::str::FromStr;

use super::error::{Error, Result};

/// Length of a SHA-1 commit id in hexadecimal digits.
const HEX_LEN: usize = 40;

/// A full commit id: 40 lowercase hexadecimal digits.
///
/// Parsing accepts upper or lower case and stores lower case, so two ids of
/// the same commit compare equal. The all-zero id that forges send as the
/// "before" of a newly created branch (and the "after" of a deleted one) is
/// accepted at any length (SHA-1 forges send 40 zeros, SHA-256 ones 64) and
/// stored as [`CommitId::ZERO`]; test for it with [`CommitId::is_zero`]
/// before looking the commit up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitId(String);

impl CommitId {
    /// The all-zero id: "no commit" in webhook payloads and ref updates.
    pub const ZERO: &'static str = "0000000000000000000000000000000000000000";

    /// Parses a full commit id (40 hexadecimal digits, any case), or an
    /// all-zero id of any length.
    pub fn parse(value: &str) -> Result<CommitId> {
        if !value.is_empty() && value.bytes().all(|b| b == b'0') {
            return Ok(CommitId(Self::ZERO.to_owned()));
        }
        if value.len() == HEX_LEN && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(CommitId(value.to_ascii_lowercase()))
        } else {
            Err(Error::InvalidCommitId {
                value: value.to_owned(),
            })
        }
    }

    /// The id as 40 lowercase hexadecimal digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 7 digits, as `git log --oneline` shows them (for messages,
    /// never for lookups: a short id may become ambiguous).
    pub fn short(&self) -> &str {
        &self.0[..7]
    }

    /// Whether this is the all-zero id ("no commit").
    pub fn is_zero(&self) -> bool {
        self.0.bytes().all(|b| b == b'0')
    }

    /// From libgit2's id (always 40 hexadecimal digits for SHA-1).
    pub(crate) fn from_oid(oid: git2::Oid) -> CommitId {
        CommitId(oid.to_string())
    }

    /// To libgit2's id.
    pub(crate) fn to_oid(&self) -> git2::Oid {
        git2::Oid::from_str(&self.0)
            .expect("a CommitId is 40 hexadecimal digits, a valid SHA-1 oid")
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CommitId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        CommitId::parse(s)
    }
}

impl AsRef<str> for CommitId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for CommitId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CommitId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CommitId::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_full_ids_in_any_case_and_stores_lower_case() {
        let id = CommitId::parse("0123456789ABCDEF0123456789abcdef01234567").unwrap();
        assert_eq!(id.as_str(), "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(id.short(), "0123456");
        assert_eq!(id.to_string(), id.as_str());
        assert!(!id.is_zero());
    }

    #[test]
    fn parse_rejects_short_long_and_non_hex_ids() {
        for bad in [
            "",
            "0123456",
            "0123456789abcdef0123456789abcdef012345678",
            "g123456789abcdef0123456789abcdef01234567",
            " 123456789abcdef0123456789abcdef01234567",
        ] {
            let error = CommitId::parse(bad).unwrap_err();
            assert!(matches!(error, Error::InvalidCommitId { .. }), "{bad:?}");
        }
    }

    #[test]
    fn all_zero_ids_of_any_length_are_zero() {
        for zero in ["0", &"0".repeat(40), &"0".repeat(64)] {
            let id = CommitId::parse(zero).unwrap();
            assert!(id.is_zero());
            assert_eq!(id.as_str(), CommitId::ZERO);
        }
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let id = CommitId::parse("0123456789abcdef0123456789abcdef01234567").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"0123456789abcdef0123456789abcdef01234567\"");
        assert_eq!(serde_json::from_str::<CommitId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<CommitId>("\"abc\"").is_err());
    }
}
