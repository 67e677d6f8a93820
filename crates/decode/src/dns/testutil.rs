//! What the tests of the DNS modules share: a query fixture, a test-only way to show a name,
//! and a walk over everything a message holds.
#![allow(clippy::unwrap_used)]

use super::{DnsError, DnsMessage, Name, Rdata};

/// A standard query for `A www.example.com`, id 0x1a2b, RD set (as dig sends it).
pub(super) static QUERY: [u8; 33] = [
    0x1a, 0x2b, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0x00,
    0x01, 0x00, 0x01,
];

/// A name's labels joined by `.`, bytes outside printable ASCII escaped (test output only).
pub(super) fn dotted(n: Name<'_>) -> String {
    let labels: Vec<String> = n.labels().map(|l| l.escape_ascii().to_string()).collect();
    labels.join(".")
}

pub(super) fn name_err(bytes: &[u8]) -> DnsError {
    let msg = DnsMessage::parse(bytes).unwrap();
    msg.questions().next().unwrap().unwrap_err()
}

/// Walks everything a consumer could ask for; returns the first error met.
pub(super) fn exercise(bytes: &[u8]) -> Option<DnsError> {
    let msg = match DnsMessage::parse(bytes) {
        Ok(m) => m,
        Err(e) => return Some(e),
    };
    let mut first = None;
    for q in msg.questions() {
        match q {
            Ok(q) => drop(q.name.labels().count()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    for r in msg.records() {
        match r.and_then(|r| {
            let _ = r.name.labels().count();
            r.rdata()
        }) {
            Ok(d) => walk_rdata(d),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    first
}

/// Reads every part of record data, as a renderer would.
pub(super) fn walk_rdata(d: Rdata<'_>) {
    match d {
        Rdata::Cname(n) | Rdata::Ns(n) | Rdata::Ptr(n) => drop(n.labels().count()),
        Rdata::Mx { exchange, .. } => drop(exchange.labels().count()),
        Rdata::Srv { target, .. } => drop(target.labels().count()),
        Rdata::Soa { mname, rname, .. } => drop(mname.labels().chain(rname.labels()).count()),
        Rdata::Txt(t) => drop(t.map(<[u8]>::len).sum::<usize>()),
        Rdata::Opt(o) => drop(o.options().count()),
        Rdata::A(_) | Rdata::Aaaa(_) | Rdata::Other { .. } => {}
    }
}
