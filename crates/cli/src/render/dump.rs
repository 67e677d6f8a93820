//! Payload dumps after a packet's summary line, in tcpdump's layouts: `-X` (hex and ASCII)
//! and `-A` (ASCII). Only printable ASCII reaches the terminal: every other byte is `.`.

/// Appends `bytes` as tcpdump -X does: per 16 bytes a line with a tab, the offset
/// (`0x0010:`), the bytes in hex in groups of two, and the bytes as ASCII (graphic
/// characters as they are, everything else, space included, as `.`).
///
/// ```text
/// \t0x0000:  4745 5420 2f20 4854 5450 2f31 2e31 0d0a  GET./.HTTP/1.1..
/// \t0x0010:  486f 7374 3a20 61                        Host:.a
/// ```
pub fn hex_ascii(out: &mut String, bytes: &[u8]) {
    const HEX_WIDTH: usize = 40;
    for (row, chunk) in bytes.chunks(16).enumerate() {
        out.push_str("\t0x");
        push_hex(out, (row * 16) as u64, 4);
        out.push_str(": ");
        let start = out.len();
        for pair in chunk.chunks(2) {
            out.push(' ');
            for &b in pair {
                push_hex(out, u64::from(b), 2);
            }
        }
        let width = out.len() - start;
        out.extend(std::iter::repeat_n(
            ' ',
            HEX_WIDTH.saturating_sub(width) + 2,
        ));
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() {
                char::from(b)
            } else {
                '.'
            }
        }));
        out.push('\n');
    }
}

/// Appends `bytes` as tcpdump -A does: printable ASCII, space, tab and line feed as they
/// are, a carriage return before a line feed dropped, every other byte as `.`; a line feed
/// ends the dump when the bytes do not. Nothing for no bytes.
pub fn ascii(out: &mut String, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let mut iter = bytes.iter().peekable();
    while let Some(&b) = iter.next() {
        match b {
            b'\r' if iter.peek() == Some(&&b'\n') => {}
            b' ' | b'\t' | b'\n' => out.push(char::from(b)),
            _ if b.is_ascii_graphic() => out.push(char::from(b)),
            _ => out.push('.'),
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

fn push_hex(out: &mut String, v: u64, digits: usize) {
    use std::fmt::Write;
    // Writing into a String cannot fail.
    let _ = write!(out, "{v:0digits$x}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ascii_is_tcpdumps_layout() {
        let mut s = String::new();
        hex_ascii(&mut s, b"GET / HTTP/1.1\r\nHost: a");
        assert_eq!(
            s,
            "\t0x0000:  4745 5420 2f20 4854 5450 2f31 2e31 0d0a  GET./.HTTP/1.1..\n\
             \t0x0010:  486f 7374 3a20 61                        Host:.a\n"
        );
        s.clear();
        hex_ascii(&mut s, b"");
        assert_eq!(s, "");
    }

    #[test]
    fn ascii_keeps_lines_and_hides_controls() {
        let mut s = String::new();
        ascii(&mut s, b"GET / HTTP/1.1\r\nX: \x1b[31m\xff\r\t\r\n");
        assert_eq!(s, "GET / HTTP/1.1\nX: .[31m..\t\n");
        s.clear();
        ascii(&mut s, b"ab\r");
        assert_eq!(s, "ab.\n");
    }
}
