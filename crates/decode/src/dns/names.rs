//! Domain names: the bounded walk over labels and compression pointers, and [`Name`], a
//! checked name inside a message.

use std::fmt;

use super::{DnsError, MAX_LABELS, MAX_NAME_LEN, MAX_POINTER_HOPS, NameProblem, slice, truncated};

/// One step of a name walk.
enum Step<'a> {
    Label(&'a [u8]),
    End,
}

/// The bounded state machine that reads a (possibly compressed) name.
#[derive(Debug, Clone)]
struct Walker<'a> {
    msg: &'a [u8],
    start: usize,
    pos: usize,
    /// Start of the label sequence being read: a pointer must point strictly before it.
    segment: usize,
    hops: usize,
    labels: usize,
    wire_len: usize,
    /// Offset just past the name where it is stored (set at the first pointer or the root).
    end: Option<usize>,
}

impl<'a> Walker<'a> {
    fn new(msg: &'a [u8], start: usize) -> Self {
        Walker {
            msg,
            start,
            pos: start,
            segment: start,
            hops: 0,
            labels: 0,
            wire_len: 1,
            end: None,
        }
    }

    fn name_err(&self, problem: NameProblem) -> DnsError {
        DnsError::Name {
            offset: self.start,
            problem,
        }
    }

    fn step(&mut self) -> Result<Step<'a>, DnsError> {
        loop {
            let pos = self.pos;
            let len_byte = *self
                .msg
                .get(pos)
                .ok_or_else(|| truncated("name label length", self.msg.len(), pos, 1))?;
            match len_byte & 0xc0 {
                0x00 => {
                    let after = pos.saturating_add(1);
                    if len_byte == 0 {
                        self.end.get_or_insert(after);
                        return Ok(Step::End);
                    }
                    let len = usize::from(len_byte);
                    let label = slice(self.msg, after, len, "name label")?;
                    self.labels = self.labels.saturating_add(1);
                    if self.labels > MAX_LABELS {
                        return Err(self.name_err(NameProblem::TooManyLabels));
                    }
                    self.wire_len = self.wire_len.saturating_add(len).saturating_add(1);
                    if self.wire_len > MAX_NAME_LEN {
                        return Err(self.name_err(NameProblem::TooLong));
                    }
                    self.pos = after.saturating_add(len);
                    return Ok(Step::Label(label));
                }
                0xc0 => {
                    let low = *self.msg.get(pos.saturating_add(1)).ok_or_else(|| {
                        truncated("name compression pointer", self.msg.len(), pos, 2)
                    })?;
                    let target = (usize::from(len_byte & 0x3f) << 8) | usize::from(low);
                    self.end.get_or_insert(pos.saturating_add(2));
                    self.hops = self.hops.saturating_add(1);
                    if self.hops > MAX_POINTER_HOPS {
                        return Err(self.name_err(NameProblem::TooManyPointers));
                    }
                    if target >= self.segment {
                        return Err(self.name_err(NameProblem::PointerNotBackwards {
                            pointer_at: pos,
                            target,
                        }));
                    }
                    self.pos = target;
                    self.segment = target;
                }
                _ => {
                    return Err(self.name_err(NameProblem::ReservedLabelType {
                        byte: len_byte,
                        at: pos,
                    }));
                }
            }
        }
    }
}

/// A domain name inside a message: the message and the offset where the name starts.
///
/// A `Name` is only handed out after the whole name was walked and found within the limits,
/// so reading its [`labels`](Name::labels) cannot fail on the message's account. The labels
/// are raw bytes, any of the 256 values: showing them (joined by `.`, escaped for a terminal
/// or for JSON) is up to the caller.
///
/// Two names are equal when their labels are, ignoring ASCII case (RFC 4343), wherever and
/// however compressed they are stored.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    offset: usize,
}

impl<'a> Name<'a> {
    /// Checks the name at `offset` of `msg` and returns it with the offset just past its
    /// stored form (after the root label or the first compression pointer).
    pub fn parse(msg: &'a [u8], offset: usize) -> Result<(Name<'a>, usize), DnsError> {
        let mut w = Walker::new(msg, offset);
        while let Step::Label(_) = w.step()? {}
        let end = w.end.unwrap_or(offset);
        Ok((Name { msg, offset }, end))
    }

    /// Offset of the name in the message.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The labels, root excluded, following compression pointers.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            walker: Walker::new(self.msg, self.offset),
            done: false,
        }
    }

    /// True for the root name (no labels).
    pub fn is_root(&self) -> bool {
        self.labels().next().is_none()
    }
}

impl PartialEq for Name<'_> {
    fn eq(&self, other: &Self) -> bool {
        let mut a = self.labels();
        let mut b = other.labels();
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
                _ => return false,
            }
        }
    }
}

impl Eq for Name<'_> {}

impl fmt::Debug for Name<'_> {
    /// `Name("www.example.com" at 12)`, label bytes outside printable ASCII escaped as
    /// `escape_ascii` does. For debugging only: how a name is shown to users is
    /// up to the caller.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Name(\"")?;
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{}", label.escape_ascii())?;
        }
        write!(f, "\" at {})", self.offset)
    }
}

/// Iterator over the labels of a [`Name`] (see [`Name::labels`]).
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    walker: Walker<'a>,
    done: bool,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        match self.walker.step() {
            Ok(Step::Label(l)) => Some(l),
            // A Name is checked when created, so errors cannot occur; stop if one does.
            Ok(Step::End) | Err(_) => {
                self.done = true;
                None
            }
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::build::{
        DnsBuilder as Builder, dns_every_type_response as full_response, dns_labels as labels,
    };
    use crate::dns::testutil::{QUERY, dotted, name_err};
    use crate::dns::{DnsMessage, Rdata};

    #[test]
    fn names_compare_by_labels_ignoring_case() {
        let bytes = full_response();
        let msg = DnsMessage::parse(&bytes).unwrap();
        let q = msg.questions().next().unwrap().unwrap().name;
        let ptr = msg.records().nth(6).unwrap().unwrap().rdata().unwrap();
        // The PTR target is a pointer to the question name; equal though stored elsewhere.
        assert!(matches!(ptr, Rdata::Ptr(n) if n == q && n.offset() != q.offset()));
        let mut b = Builder::new(1, 0, [2, 0, 0, 0], false);
        b.question(&labels("Example.COM"), 1, 1);
        b.question(&labels("example.org"), 1, 1);
        let m2 = DnsMessage::parse(&b.buf).unwrap();
        let qs: Vec<_> = m2.questions().map(|q| q.unwrap().name).collect();
        assert_eq!(qs[0], q);
        assert_ne!(qs[1], q);
    }

    #[test]
    fn self_pointer_is_an_error() {
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        let problem = NameProblem::PointerNotBackwards {
            pointer_at: 12,
            target: 12,
        };
        assert_eq!(
            name_err(&m),
            DnsError::Name {
                offset: 12,
                problem
            }
        );
    }

    #[test]
    fn forward_pointer_is_an_error() {
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[0xc0, 14, 1, b'a', 0, 0, 1, 0, 1]);
        let problem = NameProblem::PointerNotBackwards {
            pointer_at: 12,
            target: 14,
        };
        assert_eq!(
            name_err(&m),
            DnsError::Name {
                offset: 12,
                problem
            }
        );
    }

    #[test]
    fn pointer_loop_is_an_error() {
        // "abc" then a pointer back to the start of the same name: a -> abc.abc.abc...
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[3, b'a', b'b', b'c', 0xc0, 12, 0, 1, 0, 1]);
        let problem = NameProblem::PointerNotBackwards {
            pointer_at: 16,
            target: 12,
        };
        assert_eq!(
            name_err(&m),
            DnsError::Name {
                offset: 12,
                problem
            }
        );
        // Two names pointing at each other: the second is reached backwards, then the first
        // points forward again.
        let mut m = QUERY[..12].to_vec();
        m[5] = 2;
        m.extend_from_slice(&[1, b'x', 0xc0, 20, 0, 1, 0, 1, 1, b'y', 0xc0, 12, 0, 1, 0, 1]);
        let msg = DnsMessage::parse(&m).unwrap();
        let errs: Vec<_> = msg.questions().collect();
        assert!(matches!(errs[0], Err(DnsError::Name { offset: 12, .. })));
        assert_eq!(errs.len(), 1, "iteration stops after an error");
    }

    #[test]
    fn pointer_hop_limit() {
        // A root name at 12, then a chain of pointers, each to the previous one.
        let mut m = QUERY[..12].to_vec();
        m.push(0);
        let mut prev = 12u16;
        for _ in 0..=MAX_POINTER_HOPS {
            let at = m.len() as u16;
            m.extend_from_slice(&(0xc000 | prev).to_be_bytes());
            prev = at;
        }
        let ok = Name::parse(&m, usize::from(prev) - 2).unwrap().0;
        assert!(ok.is_root());
        assert_eq!(
            Name::parse(&m, usize::from(prev)).unwrap_err(),
            DnsError::Name {
                offset: usize::from(prev),
                problem: NameProblem::TooManyPointers
            }
        );
    }

    #[test]
    fn name_length_limit() {
        let label = |n: usize| vec![b'x'; n];
        // 3 * (1 + 63) + (1 + 62) + 1 = 256 > 255; one byte less is the longest legal name.
        for (last, ok) in [(61, true), (62, false)] {
            let mut b = Builder::new(1, 0, [1, 0, 0, 0], false);
            b.question(&[label(63), label(63), label(63), label(last)], 1, 1);
            let msg = DnsMessage::parse(&b.buf).unwrap();
            let q = msg.questions().next().unwrap();
            if ok {
                assert_eq!(dotted(q.unwrap().name).len(), 63 * 3 + last + 3);
            } else {
                let problem = NameProblem::TooLong;
                assert_eq!(
                    q.unwrap_err(),
                    DnsError::Name {
                        offset: 12,
                        problem
                    }
                );
            }
        }
    }

    #[test]
    fn reserved_label_type() {
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[0x41, 1, 0, 0, 1, 0, 1]);
        let problem = NameProblem::ReservedLabelType { byte: 0x41, at: 12 };
        assert_eq!(
            name_err(&m),
            DnsError::Name {
                offset: 12,
                problem
            }
        );
    }
}
