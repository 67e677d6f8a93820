//! HPACK (RFC 7541): one decoder per direction of a connection, each with its own dynamic
//! table, turning header blocks into header lists.
//!
//! Decoded fields go into a caller-owned [`HeaderList`] (one buffer for every name and
//! value, plus their ranges), so decoding a block allocates nothing once the list's
//! buffers have grown; only new dynamic-table entries are allocated.

mod huffman;
mod table;

use crate::error::HpackError;
use table::DynamicTable;
pub(crate) use table::STATIC;

/// The dynamic table size both sides start with (RFC 9113 SETTINGS_HEADER_TABLE_SIZE).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// A decoded header list: names and values in wire order, borrowed from one buffer.
#[derive(Debug, Clone, Default)]
pub struct HeaderList {
    buf: Vec<u8>,
    /// (name start, value start, value end) into `buf`.
    fields: Vec<(usize, usize, usize)>,
}

impl HeaderList {
    /// An empty list.
    pub fn new() -> Self {
        HeaderList::default()
    }

    /// Empties the list, keeping its buffers.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.fields.clear();
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Bytes of names and values (the list's size as RFC 9113 section 6.5.2 counts it,
    /// without the 32 bytes per field).
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Fields as `(name, value)` in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields.iter().map(|&(n, v, e)| {
            (
                self.buf.get(n..v).unwrap_or_default(),
                self.buf.get(v..e).unwrap_or_default(),
            )
        })
    }

    /// The first value of field `name` (names are lowercase in HTTP/2).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| *n == name.as_bytes())
            .map(|(_, v)| v)
    }

    fn push(&mut self, name: &[u8], value: &[u8]) {
        let n = self.buf.len();
        self.buf.extend_from_slice(name);
        let v = self.buf.len();
        self.buf.extend_from_slice(value);
        self.fields.push((n, v, self.buf.len()));
    }
}

/// What decoding a block found besides its fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlockInfo {
    /// Fields taken from the dynamic table (by index or by name).
    pub dynamic_refs: usize,
    /// References to entries this decoder never saw (a connection picked up mid-stream):
    /// their names or values are unknown and shown as `?`.
    pub unknown_refs: usize,
    /// The encoder asked for a table larger than the cap: the table was kept at the cap, so
    /// later references to its oldest entries may fail.
    pub capped: Option<usize>,
}

/// One direction's HPACK decoder.
#[derive(Debug, Clone)]
pub struct Decoder {
    table: DynamicTable,
    /// What the receiver's SETTINGS_HEADER_TABLE_SIZE allows the encoder.
    limit: usize,
    /// Our own bound on the table, whatever SETTINGS say.
    cap: usize,
    /// Started without the connection's beginning: references past the table give `?`
    /// fields instead of failing the block.
    tolerant: bool,
}

/// Reads an HPACK integer with an `n`-bit prefix at `*pos` (RFC 7541 section 5.1), at most
/// 2^32 - 1 (five continuation bytes), moving `*pos` past it.
fn integer(block: &[u8], pos: &mut usize, n: u8) -> Result<usize, HpackError> {
    let offset = *pos;
    let err = HpackError::Integer { offset };
    let first = *block.get(*pos).ok_or(err.clone())?;
    *pos = pos.saturating_add(1);
    let mask = (1u16 << n).saturating_sub(1) as u8;
    let mut value = u64::from(first & mask);
    if value < u64::from(mask) {
        return Ok(value as usize);
    }
    for shift in (0..35).step_by(7) {
        let b = *block.get(*pos).ok_or(err.clone())?;
        *pos = pos.saturating_add(1);
        value = value.saturating_add(u64::from(b & 0x7f) << shift);
        if b & 0x80 == 0 {
            return usize::try_from(value)
                .ok()
                .filter(|v| *v <= u32::MAX as usize)
                .ok_or(err);
        }
    }
    Err(err)
}

impl Decoder {
    /// A decoder whose table starts at the default size, never over `cap` bytes.
    pub fn new(cap: usize) -> Self {
        let size = DEFAULT_TABLE_SIZE.min(cap);
        Decoder {
            table: DynamicTable::new(size),
            limit: DEFAULT_TABLE_SIZE,
            cap,
            tolerant: false,
        }
    }

    /// A decoder for a connection picked up mid-stream: the table's earlier entries are
    /// unknown, so references past it give `?` fields (counted in [`BlockInfo::unknown_refs`]).
    pub fn midstream(cap: usize) -> Self {
        Decoder {
            tolerant: true,
            ..Decoder::new(cap)
        }
    }

    /// The same decoder after lost bytes: header blocks may have been missed, so
    /// references past the table give `?` fields from now on.
    pub fn into_midstream(self) -> Self {
        Decoder {
            tolerant: true,
            ..self
        }
    }

    /// The receiver's SETTINGS_HEADER_TABLE_SIZE: the most the encoder may use.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        if self.table.max() > limit {
            self.table.set_max(limit.min(self.cap));
        }
    }

    /// Bytes held, for memory counts.
    pub fn memory(&self) -> usize {
        self.table.memory()
    }

    /// Entries in the dynamic table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// The dynamic table's size as RFC 7541 section 4.1 counts it.
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// Decodes one whole header block (HEADERS or PUSH_PROMISE fragment plus its
    /// CONTINUATIONs) into `out`, updating the dynamic table. `max_list` bounds the decoded
    /// list's bytes. On error the table may be out of step with the encoder's: the
    /// connection's later blocks cannot be trusted.
    pub fn decode(
        &mut self,
        block: &[u8],
        out: &mut HeaderList,
        max_list: usize,
    ) -> Result<BlockInfo, HpackError> {
        let mut info = BlockInfo::default();
        let mut pos = 0usize;
        while let Some(&b) = block.get(pos) {
            let start = pos;
            if b & 0x80 != 0 {
                // Indexed field (section 6.1).
                let index = integer(block, &mut pos, 7)?;
                self.indexed(index, start, true, out, &mut info)?;
            } else if b & 0xe0 == 0x20 {
                // Dynamic table size update (section 6.3).
                let size = integer(block, &mut pos, 5)?;
                if size > self.limit {
                    return Err(HpackError::SizeUpdate {
                        size,
                        limit: self.limit,
                        offset: start,
                    });
                }
                if size > self.cap {
                    info.capped = Some(size);
                }
                self.table.set_max(size.min(self.cap));
            } else {
                // Literal: with incremental indexing (6 bits), without (4), never indexed (4).
                let (prefix, index_it) = if b & 0x40 != 0 { (6, true) } else { (4, false) };
                let index = integer(block, &mut pos, prefix)?;
                let name_start = out.buf.len();
                if index == 0 {
                    string(block, &mut pos, &mut out.buf)?;
                } else {
                    self.indexed(index, start, false, out, &mut info)?;
                }
                let value_start = out.buf.len();
                string(block, &mut pos, &mut out.buf)?;
                out.fields.push((name_start, value_start, out.buf.len()));
                if index_it {
                    let name = out.buf.get(name_start..value_start).unwrap_or_default();
                    let value = out.buf.get(value_start..).unwrap_or_default();
                    self.table.insert(name, value);
                }
            }
            if out.buf.len() > max_list {
                return Err(HpackError::ListTooLarge { max: max_list });
            }
        }
        Ok(info)
    }

    /// Appends the field at `index` (`whole`) or only its name to `out`.
    fn indexed(
        &self,
        index: usize,
        offset: usize,
        whole: bool,
        out: &mut HeaderList,
        info: &mut BlockInfo,
    ) -> Result<(), HpackError> {
        let bad = || HpackError::Index {
            index,
            offset,
            dynamic: self.table.len(),
        };
        if index == 0 {
            return Err(bad());
        }
        let (name, value): (&[u8], &[u8]) = match STATIC.get(index.saturating_sub(1)) {
            Some((n, v)) => (n.as_bytes(), v.as_bytes()),
            None => {
                let d = index.saturating_sub(STATIC.len()).saturating_sub(1);
                match self.table.get(d) {
                    Some(e) => {
                        info.dynamic_refs = info.dynamic_refs.saturating_add(1);
                        e
                    }
                    None if self.tolerant => {
                        info.unknown_refs = info.unknown_refs.saturating_add(1);
                        (b"?", b"?")
                    }
                    None => return Err(bad()),
                }
            }
        };
        if whole {
            out.push(name, value);
        } else {
            out.buf.extend_from_slice(name);
        }
        Ok(())
    }
}

/// Reads a string literal at `*pos` (section 5.2), appending its decoded bytes to `out`.
fn string(block: &[u8], pos: &mut usize, out: &mut Vec<u8>) -> Result<(), HpackError> {
    let offset = *pos;
    let huffman = block.get(*pos).is_some_and(|b| b & 0x80 != 0);
    let len = integer(block, pos, 7)?;
    let end = pos.saturating_add(len);
    let raw = block
        .get(*pos..end)
        .ok_or(HpackError::Truncated { offset, len })?;
    *pos = end;
    if huffman {
        huffman::decode(raw, out).map_err(|_| HpackError::Huffman { offset })
    } else {
        out.extend_from_slice(raw);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn fields(l: &HeaderList) -> Vec<(String, String)> {
        l.iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    fn check(d: &mut Decoder, block: &str, want: &[(&str, &str)], size: usize) {
        let mut out = HeaderList::new();
        d.decode(&hex(block), &mut out, 1 << 20).unwrap();
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(fields(&out), want);
        assert_eq!(d.table_size(), size);
    }

    /// RFC 7541 C.2.1 - C.2.4: one field per representation.
    #[test]
    fn c2_literals_and_indexed() {
        let mut d = Decoder::new(4096);
        check(
            &mut d,
            "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
            &[("custom-key", "custom-header")],
            55,
        );
        let mut d = Decoder::new(4096);
        check(
            &mut d,
            "040c 2f73 616d 706c 652f 7061 7468",
            &[(":path", "/sample/path")],
            0,
        );
        let mut d = Decoder::new(4096);
        check(
            &mut d,
            "1008 7061 7373 776f 7264 0673 6563 7265 74",
            &[("password", "secret")],
            0,
        );
        let mut d = Decoder::new(4096);
        check(&mut d, "82", &[(":method", "GET")], 0);
    }

    const C3_1: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
    ];
    const C3_2: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
        ("cache-control", "no-cache"),
    ];
    const C3_3: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/index.html"),
        (":authority", "www.example.com"),
        ("custom-key", "custom-value"),
    ];

    /// RFC 7541 C.3: requests without Huffman coding, one dynamic table.
    #[test]
    fn c3_requests() {
        let mut d = Decoder::new(4096);
        check(
            &mut d,
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            C3_1,
            57,
        );
        check(&mut d, "8286 84be 5808 6e6f 2d63 6163 6865", C3_2, 110);
        check(
            &mut d,
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
            C3_3,
            164,
        );
    }

    /// RFC 7541 C.4: the same requests with Huffman coding.
    #[test]
    fn c4_requests_huffman() {
        let mut d = Decoder::new(4096);
        check(
            &mut d,
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            C3_1,
            57,
        );
        check(&mut d, "8286 84be 5886 a8eb 1064 9cbf", C3_2, 110);
        check(
            &mut d,
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
            C3_3,
            164,
        );
    }

    const C5_1: &[(&str, &str)] = &[
        (":status", "302"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ];
    const C5_2: &[(&str, &str)] = &[
        (":status", "307"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ];
    const C5_3: &[(&str, &str)] = &[
        (":status", "200"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        ("location", "https://www.example.com"),
        ("content-encoding", "gzip"),
        (
            "set-cookie",
            "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        ),
    ];

    /// RFC 7541 C.5: responses with a 256-byte table, evictions included.
    #[test]
    fn c5_responses_evicting() {
        let mut d = Decoder::new(4096);
        d.set_limit(256);
        check(
            &mut d,
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 \
             2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 \
             6c65 2e63 6f6d",
            C5_1,
            222,
        );
        check(&mut d, "4803 3330 37c1 c0bf", C5_2, 222);
        check(
            &mut d,
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d \
             54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 \
             5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e \
             3d31",
            C5_3,
            215,
        );
    }

    /// RFC 7541 C.6: the same responses with Huffman coding.
    #[test]
    fn c6_responses_huffman() {
        let mut d = Decoder::new(4096);
        d.set_limit(256);
        check(
            &mut d,
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            C5_1,
            222,
        );
        check(&mut d, "4883 640e ffc1 c0bf", C5_2, 222);
        check(
            &mut d,
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
             77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
             9587 3160 65c0 03ed 4ee5 b106 3d50 07",
            C5_3,
            215,
        );
    }

    #[test]
    fn broken_blocks_are_errors() {
        let mut out = HeaderList::new();
        for block in ["80", "be", "ff ff ff ff ff ff ff", "400a 6375", "3fe2 1f"] {
            let mut d = Decoder::new(4096);
            assert!(d.decode(&hex(block), &mut out, 1 << 20).is_err(), "{block}");
        }
        // Mid-stream: an unknown dynamic reference is a `?` field, not an error.
        let mut d = Decoder::midstream(4096);
        out.clear();
        let info = d.decode(&hex("be"), &mut out, 1 << 20).unwrap();
        assert_eq!(info.unknown_refs, 1);
        assert_eq!(fields(&out), [("?".to_owned(), "?".to_owned())]);
    }
}
