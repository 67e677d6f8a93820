//! Heads packed into one buffer each, about their size on the wire, and the pool of
//! buffers that sessions share.

use super::HeadRender;
#[cfg(doc)]
use crate::TransactionCollector;
use crate::event::Headers;

/// Head buffers given back by finished transactions, for the next heads of any session.
/// One shared by the collectors of many sessions saves an allocation per head; a collector
/// used without one ([`TransactionCollector::push`]) frees its buffers instead.
#[derive(Debug, Default)]
pub struct HeadBuffers {
    pub(super) spare: Vec<Vec<u8>>,
}

impl HeadBuffers {
    /// Buffers kept for reuse (more only come back after a burst of pipelining).
    const MAX: usize = 256;

    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn take(&mut self) -> Vec<u8> {
        let mut b = self.spare.pop().unwrap_or_default();
        b.clear();
        b
    }

    pub(super) fn give(&mut self, b: Vec<u8>) {
        if self.spare.len() < Self::MAX {
            self.spare.push(b);
        }
    }
}

/// A head packed into one buffer about its size on the wire: a fixed `prefix` (a request's
/// index and version, a response's status and version), the number of fields and the
/// length of the text, a little-endian `u32` length per field, then the text fields (the
/// start line's, then the header names: `&str`s, validated once when read back), then the
/// header values.
#[derive(Debug, Default)]
pub(super) struct PackedHead(pub(super) Vec<u8>);

impl PackedHead {
    pub(super) fn new<const P: usize>(
        mut buf: Vec<u8>,
        prefix: [u8; P],
        line: &[&str],
        headers: Headers<'_>,
    ) -> PackedHead {
        let fields = line.len() + 2 * headers.len();
        let (mut text, mut values) = (line.iter().map(|f| f.len()).sum::<usize>(), 0);
        for (name, value) in headers.iter() {
            text += name.len();
            values += value.len();
        }
        // A head is at most `max_head_bytes`, far below 4 GiB.
        let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
        buf.clear();
        buf.reserve_exact(P + 8 + fields * 4 + text + values);
        buf.extend_from_slice(&prefix);
        buf.extend_from_slice(&len(fields));
        buf.extend_from_slice(&len(text));
        // Then the three regions, written in one pass over the headers.
        let lens_at = buf.len();
        buf.resize(lens_at + fields * 4 + text + values, 0);
        let regions = buf.get_mut(lens_at..).unwrap_or_default();
        let (lens, rest) = regions.split_at_mut(fields * 4);
        let (text_out, values_out) = rest.split_at_mut(text);
        let mut lens = lens.chunks_exact_mut(4);
        let (mut t, mut v) = (0, 0);
        let put = |out: &mut [u8], at: &mut usize, field: &[u8]| {
            if let Some(dst) = out.get_mut(*at..*at + field.len()) {
                dst.copy_from_slice(field);
            }
            *at += field.len();
        };
        for field in line {
            if let Some(l) = lens.next() {
                l.copy_from_slice(&len(field.len()));
            }
            put(text_out, &mut t, field.as_bytes());
        }
        for (name, value) in headers.iter() {
            if let (Some(ln), Some(lv)) = (lens.next(), lens.next()) {
                ln.copy_from_slice(&len(name.len()));
                lv.copy_from_slice(&len(value.len()));
            }
            put(text_out, &mut t, name.as_bytes());
            put(values_out, &mut v, value);
        }
        PackedHead(buf)
    }

    /// A head kept in the caller's own form: `prefix`, then what `render` writes.
    pub(super) fn rendered<const P: usize>(
        mut buf: Vec<u8>,
        prefix: [u8; P],
        render: impl FnOnce(&mut Vec<u8>),
    ) -> PackedHead {
        buf.clear();
        buf.extend_from_slice(&prefix);
        render(&mut buf);
        PackedHead(buf)
    }

    /// What follows a prefix of `P` bytes.
    pub(super) fn after_prefix<const P: usize>(&self) -> &[u8] {
        self.0.get(P..).unwrap_or_default()
    }

    pub(super) fn prefix<const P: usize>(&self) -> [u8; P] {
        self.0.first_chunk().copied().unwrap_or([0; P])
    }

    /// The start line's `N` fields and the headers, after a prefix of `P` bytes.
    pub(super) fn read<const P: usize, const N: usize>(&self) -> ([&str; N], PackedHeaders<'_>) {
        let mut r = Reader(self.0.get(P..).unwrap_or_default());
        let fields = r.u32() as usize;
        let text_len = r.u32() as usize;
        let lens = r.take(fields.saturating_mul(4));
        let text = std::str::from_utf8(r.take(text_len)).unwrap_or_default();
        let mut headers = PackedHeaders {
            lens: Reader(lens),
            text,
            values: r.0,
        };
        let line = std::array::from_fn(|_| {
            let n = headers.lens.u32() as usize;
            headers.text_field(n)
        });
        (line, headers)
    }
}

/// A cursor over packed bytes; reads past the end give zeros and empty slices.
#[derive(Debug, Clone, Copy)]
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at_checked(n).unwrap_or((self.0, &[]));
        self.0 = tail;
        head
    }

    pub(super) fn u32(&mut self) -> u32 {
        match self.0.split_first_chunk::<4>() {
            Some((n, tail)) => {
                self.0 = tail;
                u32::from_le_bytes(*n)
            }
            None => 0,
        }
    }
}

/// A head's headers in wire order, read from its packed form: `(name, value)` as in
/// [`Headers`].
#[derive(Debug, Clone, Copy)]
pub struct PackedHeaders<'a> {
    lens: Reader<'a>,
    text: &'a str,
    values: &'a [u8],
}

impl<'a> PackedHeaders<'a> {
    pub(super) fn text_field(&mut self, n: usize) -> &'a str {
        let (field, tail) = self.text.split_at_checked(n).unwrap_or((self.text, ""));
        self.text = tail;
        field
    }

    /// The first value of header `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        let mut headers = *self;
        headers
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

impl<'a> Iterator for PackedHeaders<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.lens.0.len() < 8 {
            return None;
        }
        let name = self.lens.u32() as usize;
        let value = self.lens.u32() as usize;
        let name = self.text_field(name);
        let (value, tail) = self
            .values
            .split_at_checked(value)
            .unwrap_or((self.values, &[]));
        self.values = tail;
        Some((name, value))
    }
}

/// A request waiting for its record: index (`u64`) and version (`u8`), method, target and
/// headers, packed.
#[derive(Debug)]
pub(super) struct Waiting(pub(super) PackedHead);

impl Waiting {
    pub(super) const PREFIX: usize = 9;

    pub(super) fn new(
        buf: Vec<u8>,
        r: &crate::event::RequestHead<'_>,
        render: Option<&mut dyn HeadRender>,
    ) -> Waiting {
        let [a, b, c, d, e, f, g, h] = r.index.to_le_bytes();
        let prefix: [u8; Self::PREFIX] = [a, b, c, d, e, f, g, h, r.version];
        Waiting(match render {
            None => PackedHead::new(buf, prefix, &[r.method, r.uri], r.headers),
            Some(render) => PackedHead::rendered(buf, prefix, |out| render.request(r, out)),
        })
    }

    pub(super) fn index(&self) -> u64 {
        u64::from_le_bytes(self.0.prefix())
    }
}

/// The final response being received: status (`u16`) and version (`u8`), reason and
/// headers, packed.
#[derive(Debug)]
pub(super) struct Answer(pub(super) PackedHead);

impl Answer {
    pub(super) const PREFIX: usize = 3;

    pub(super) fn new(
        buf: Vec<u8>,
        r: &crate::event::ResponseHead<'_>,
        render: Option<&mut dyn HeadRender>,
    ) -> Answer {
        let [a, b] = r.status.to_le_bytes();
        let prefix = [a, b, r.version];
        Answer(match render {
            None => PackedHead::new(buf, prefix, &[r.reason], r.headers),
            Some(render) => PackedHead::rendered(buf, prefix, |out| render.response(r, out)),
        })
    }
}
