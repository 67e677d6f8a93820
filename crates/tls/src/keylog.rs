//! NSS key log files (`SSLKEYLOGFILE`): the secrets a TLS library logs per client random,
//! which is all that decryption needs (no private keys, any key exchange).

use std::collections::HashMap;
use std::fmt;

/// Which secret of a session a key log line gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SecretLabel {
    /// `CLIENT_RANDOM`: the 48-byte master secret of TLS 1.2 and older.
    ClientRandom,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET` (TLS 1.3).
    ClientHandshake,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET` (TLS 1.3).
    ServerHandshake,
    /// `CLIENT_TRAFFIC_SECRET_0` (TLS 1.3).
    ClientTraffic0,
    /// `SERVER_TRAFFIC_SECRET_0` (TLS 1.3).
    ServerTraffic0,
    /// `CLIENT_EARLY_TRAFFIC_SECRET` (TLS 1.3 0-RTT).
    ClientEarly,
}

const LABELS: [(SecretLabel, &str); 6] = [
    (SecretLabel::ClientRandom, "CLIENT_RANDOM"),
    (
        SecretLabel::ClientHandshake,
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    ),
    (
        SecretLabel::ServerHandshake,
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    ),
    (SecretLabel::ClientTraffic0, "CLIENT_TRAFFIC_SECRET_0"),
    (SecretLabel::ServerTraffic0, "SERVER_TRAFFIC_SECRET_0"),
    (SecretLabel::ClientEarly, "CLIENT_EARLY_TRAFFIC_SECRET"),
];

/// Labels that are valid NSS key log lines but carry nothing we use.
const IGNORED: &[&str] = &["EXPORTER_SECRET", "EARLY_EXPORTER_SECRET"];

impl SecretLabel {
    /// The label as it is written in a key log file.
    pub fn as_str(self) -> &'static str {
        LABELS
            .iter()
            .find(|(l, _)| *l == self)
            .map_or("", |(_, s)| s)
    }

    fn parse(s: &str) -> Option<SecretLabel> {
        LABELS.iter().find(|(_, n)| *n == s).map(|(l, _)| *l)
    }
}

impl fmt::Display for SecretLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a session looks its secrets up. [`KeyLog`] implements it; a caller watching a key
/// log that a live program is still appending to can implement it to read the file again
/// on a miss.
pub trait KeyLookup: fmt::Debug + Send + Sync {
    /// The secret logged under `label` for the session whose ClientHello carried
    /// `client_random`.
    fn secret(&self, client_random: &[u8; 32], label: SecretLabel) -> Option<Vec<u8>>;

    /// Whether a secret missing now may still come: a key log that a program being captured
    /// live is still writing. A session whose secrets are missing then holds its records (a
    /// bounded number) and asks again as the next ones arrive. The default says no: a miss
    /// is final, and nothing is held.
    fn may_grow(&self) -> bool {
        false
    }

    /// Called before a session that waited for its secrets asks for the last time: a lookup
    /// that rate-limits reading its files should read what they gained now. The default does
    /// nothing.
    fn catch_up(&self) {}
}

/// A malformed key log line: its 1-based number and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLogWarning {
    /// 1-based line number within the text given to [`KeyLog::add`].
    pub line: usize,
    /// What is wrong with the line.
    pub reason: String,
}

impl fmt::Display for KeyLogWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Secrets from NSS key log files, keyed by client random.
#[derive(Debug, Default, Clone)]
pub struct KeyLog {
    entries: HashMap<[u8; 32], Vec<(SecretLabel, Vec<u8>)>>,
}

/// The longest secret we accept (SHA-384 traffic secrets are 48 bytes, as is a master secret).
const MAX_SECRET: usize = 64;

impl KeyLog {
    /// An empty key log.
    pub fn new() -> KeyLog {
        KeyLog::default()
    }

    /// Adds every valid line of `text`; returns one warning per malformed line. Comments
    /// (`#`) and blank lines are fine; unknown labels (such as OpenSSL's
    /// `CLIENT_TRAFFIC_SECRET_1`, whose secrets we derive ourselves) are ignored silently.
    pub fn add(&mut self, text: &[u8]) -> Vec<KeyLogWarning> {
        let mut warnings = Vec::new();
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = i.saturating_add(1);
            match parse_line(raw) {
                Ok(None) => {}
                Ok(Some((label, random, secret))) => {
                    let list = self.entries.entry(random).or_default();
                    match list.iter_mut().find(|(l, _)| *l == label) {
                        Some(slot) => slot.1 = secret,
                        None => list.push((label, secret)),
                    }
                }
                Err(reason) => warnings.push(KeyLogWarning { line, reason }),
            }
        }
        warnings
    }

    /// How many client randoms have at least one secret.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no secret is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The key log as NSS text (for a pcapng Decryption Secrets Block): every entry, or only
    /// those of `randoms` when given. Lines are sorted so the output is reproducible.
    pub fn to_text(&self, randoms: Option<&[[u8; 32]]>) -> Vec<u8> {
        let mut lines: Vec<String> = Vec::new();
        for (random, list) in &self.entries {
            if randoms.is_some_and(|r| !r.contains(random)) {
                continue;
            }
            for (label, secret) in list {
                lines.push(format!("{label} {} {}", hex(random), hex(secret)));
            }
        }
        lines.sort();
        let mut out = Vec::new();
        for l in lines {
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
        out
    }
}

impl KeyLookup for KeyLog {
    fn secret(&self, client_random: &[u8; 32], label: SecretLabel) -> Option<Vec<u8>> {
        self.entries
            .get(client_random)?
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, s)| s.clone())
    }
}

type Entry = (SecretLabel, [u8; 32], Vec<u8>);

fn parse_line(raw: &[u8]) -> Result<Option<Entry>, String> {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Err("not UTF-8 text".to_owned());
    };
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let mut fields = text.split_ascii_whitespace();
    let (Some(label), Some(random), Some(secret), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err("expected three fields: LABEL CLIENT_RANDOM SECRET".to_owned());
    };
    let Some(label) = SecretLabel::parse(label) else {
        let known_shape = label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        return if known_shape || IGNORED.contains(&label) {
            Ok(None)
        } else {
            Err(format!("unknown label {label:?}"))
        };
    };
    let random = unhex(random).ok_or("client random is not hex")?;
    let random: [u8; 32] = random
        .try_into()
        .map_err(|r: Vec<u8>| format!("client random has {} bytes, not 32", r.len()))?;
    let secret = unhex(secret).ok_or("secret is not hex")?;
    if secret.is_empty() || secret.len() > MAX_SECRET {
        return Err(format!("secret has {} bytes", secret.len()));
    }
    if label == SecretLabel::ClientRandom && secret.len() != 48 {
        return Err(format!(
            "CLIENT_RANDOM master secret has {} bytes, not 48",
            secret.len()
        ));
    }
    Ok(Some((label, random, secret)))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| {
            let hi = char::from(*p.first()?).to_digit(16)?;
            let lo = char::from(*p.get(1)?).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

/// Lowercase hex of `b`.
pub(crate) fn hex(b: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const R: &str = "899f1c8adc843e579cb5df594b57f1d4da86c98d5aa8f702b6ff4d1128539d81";

    #[test]
    fn lines_comments_warnings() {
        let ms = "ab".repeat(48);
        let text = format!(
            "# comment\n\nCLIENT_RANDOM {R} {ms}\nCLIENT_TRAFFIC_SECRET_1 {R} {ms}\nEXPORTER_SECRET {R} 00\nCLIENT_RANDOM zz {ms}\nCLIENT_RANDOM {R}\nclient_random x y\n"
        );
        let mut log = KeyLog::new();
        let w = log.add(text.as_bytes());
        assert_eq!(log.len(), 1);
        let w: Vec<String> = w.iter().map(ToString::to_string).collect();
        assert_eq!(
            w,
            [
                "line 6: client random is not hex",
                "line 7: expected three fields: LABEL CLIENT_RANDOM SECRET",
                "line 8: unknown label \"client_random\""
            ]
        );
        let random: [u8; 32] = unhex(R).unwrap().try_into().unwrap();
        assert_eq!(
            log.secret(&random, SecretLabel::ClientRandom),
            Some(vec![0xab; 48])
        );
        assert_eq!(log.secret(&random, SecretLabel::ClientHandshake), None);
        let again = log.to_text(Some(&[random]));
        assert_eq!(again, format!("CLIENT_RANDOM {R} {ms}\n").into_bytes());
        assert!(log.to_text(Some(&[[0; 32]])).is_empty());
    }
}
