//! Fitting a feed item over [`ServeConfig::max_item_bytes`](super::ServeConfig) into it
//! by cutting its long values, so that a large item (a request with a huge header, a long
//! WebSocket text) is still shown, shortened, instead of being dropped.
//!
//! The item's JSON is read back and cut in rounds, each shorter than the last, until it fits:
//! every string longer than the round's length is cut on a character boundary and ends
//! with [`CUT_MARK`] and the number of bytes cut (`"xxxx…[204790 bytes cut]"`), and in the
//! later rounds every array longer than the round's length keeps only its first elements.
//! Object keys, numbers and booleans are never changed, so the item keeps its shape. What
//! was cut is counted in a [`Cut`], which the page receives beside the item.

use serde_json::Value;

use crate::render::escape::write_safe_json;

/// What ends a cut string, before the number of bytes cut.
pub const CUT_MARK: &str = "…[";

/// (longest string kept, in bytes; most array elements kept), round by round.
const ROUNDS: [(usize, usize); 6] = [
    (4096, usize::MAX),
    (1024, usize::MAX),
    (256, 1024),
    (64, 256),
    (16, 64),
    (0, 16),
];

/// What cutting an item removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cut {
    /// Strings cut short.
    pub strings: u64,
    /// Array elements left out.
    pub elements: u64,
    /// Bytes of string content left out.
    pub bytes: u64,
}

/// `json` (one JSON object) cut until it is at most `max` bytes, with what was cut; `None`
/// when `json` is not one JSON object. The result may still exceed `max` when the item's
/// keys and numbers alone do (a `max` of a few hundred bytes): it is then as short as it
/// can be made.
pub fn shrink(json: &str, max: usize) -> Option<(String, Cut)> {
    let value: Value = serde_json::from_str(json).ok()?;
    if !value.is_object() {
        return None;
    }
    let mut last = None;
    for (chars, elements) in ROUNDS {
        let mut v = value.clone();
        let mut cut = Cut::default();
        cut_value(&mut v, chars, elements, &mut cut);
        let mut out = Vec::with_capacity(max.min(json.len()));
        write_safe_json(&mut out, &v).ok()?;
        let out = String::from_utf8(out).ok()?;
        if out.len() <= max {
            return Some((out, cut));
        }
        last = Some((out, cut));
    }
    last
}

fn cut_value(v: &mut Value, max_str: usize, max_elements: usize, cut: &mut Cut) {
    match v {
        Value::String(s) => cut_string(s, max_str, cut),
        Value::Array(items) => {
            if items.len() > max_elements {
                cut.elements = cut
                    .elements
                    .saturating_add((items.len() - max_elements) as u64);
                items.truncate(max_elements);
            }
            for item in items {
                cut_value(item, max_str, max_elements, cut);
            }
        }
        Value::Object(members) => {
            for (_, member) in members.iter_mut() {
                cut_value(member, max_str, max_elements, cut);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Cuts `s` to at most `max` bytes (on a character boundary) plus the mark, when the
/// result is shorter than `s`.
fn cut_string(s: &mut String, max: usize, cut: &mut Cut) {
    if s.len() <= max {
        return;
    }
    let mut at = max;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    let removed = s.len() - at;
    let mark = format!("{CUT_MARK}{removed} bytes cut]");
    if removed <= mark.len() {
        return;
    }
    s.truncate(at);
    s.push_str(&mark);
    cut.strings = cut.strings.saturating_add(1);
    cut.bytes = cut.bytes.saturating_add(removed as u64);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn small_items_are_unchanged_in_value() {
        let json = r#"{"type":"http","n":1,"a":[1,2],"s":"é"}"#;
        let (out, cut) = shrink(json, 1 << 16).unwrap();
        assert_eq!(cut, Cut::default());
        let a: Value = serde_json::from_str(json).unwrap();
        let b: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_huge_header_is_cut_with_a_mark_and_the_rest_kept() {
        let big = "x".repeat(200 * 1024);
        let json = serde_json::json!({
            "type": "http", "stream": 7,
            "request": {"method": "GET", "uri": "/big",
                        "headers": [["Host", "example.com"], ["X-Big", big]]},
        })
        .to_string();
        let (out, cut) = shrink(&json, 64 * 1024).unwrap();
        assert!(out.len() <= 64 * 1024);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["stream"], 7);
        assert_eq!(v["request"]["uri"], "/big");
        assert_eq!(v["request"]["headers"][0][1], "example.com");
        let cut_value = v["request"]["headers"][1][1].as_str().unwrap();
        assert!(cut_value.starts_with("xxxx"));
        assert!(
            cut_value.ends_with(&format!("…[{} bytes cut]", 200 * 1024 - 4096)),
            "{}",
            &cut_value[4090..]
        );
        assert_eq!(
            cut,
            Cut {
                strings: 1,
                elements: 0,
                bytes: 200 * 1024 - 4096
            }
        );
    }

    #[test]
    fn many_values_are_cut_harder_and_long_arrays_shortened() {
        let headers: Vec<Value> = (0..5000)
            .map(|i| serde_json::json!([format!("X-{i}"), "v".repeat(100)]))
            .collect();
        let json = serde_json::json!({"type": "http", "headers": headers}).to_string();
        let (out, cut) = shrink(&json, 16 * 1024).unwrap();
        assert!(out.len() <= 16 * 1024, "{}", out.len());
        assert!(cut.elements > 0);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["headers"][0][0], "X-0");
    }

    #[test]
    fn cuts_fall_on_character_boundaries_and_keep_escapes() {
        let s = format!("\u{9b}{}", "é".repeat(5000));
        let json = serde_json::json!({ "t": s }).to_string();
        let (out, _) = shrink(&json, 2048).unwrap();
        assert!(out.contains("\\u009b"), "C1 controls stay escaped");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["t"].as_str().unwrap().contains("bytes cut]"));
    }

    #[test]
    fn not_an_object_is_refused() {
        for bad in ["", "[1]", "42", "\"s\"", "{\"a\":"] {
            assert!(shrink(bad, 10).is_none(), "{bad}");
        }
    }
}
