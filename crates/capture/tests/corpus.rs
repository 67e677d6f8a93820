//! Differential test over the shared corpus: packet count, timestamps, lengths and link type
//! against tshark's `packets.tsv`, `capinfos.txt` and the manifest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use pcap_capture::{FileReader, LinkType};

/// Wireshark's short encapsulation name (as in MANIFEST.tsv) for a link type.
fn wireshark_encap(lt: LinkType) -> String {
    match lt.0 {
        0 => "null".into(),
        1 => "ether".into(),
        14 | 101 | 228 => "rawip".into(),
        229 => "rawip6".into(),
        113 => "linux-sll".into(),
        276 => "linux-sll2".into(),
        253 => "netlink".into(),
        other => format!("linktype-{other}"),
    }
}

/// `sec.fraction` (up to 9 digits) to nanoseconds.
fn epoch_ns(text: &str) -> Option<i128> {
    if text.is_empty() {
        return None;
    }
    let (neg, text) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (sec, frac) = text.split_once('.').unwrap_or((text, ""));
    let mut frac = frac.to_owned();
    while frac.len() < 9 {
        frac.push('0');
    }
    let ns = sec.parse::<i128>().ok()? * 1_000_000_000 + frac[..9].parse::<i128>().ok()?;
    Some(if neg { -ns } else { ns })
}

/// Allowed mismatches: `name<TAB>reason` lines in `corpus_allow.txt`.
fn allow_list() -> HashMap<String, String> {
    let text = include_str!("corpus_allow.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, reason) = l.split_once('\t').expect("name<TAB>reason");
            assert!(
                !reason.trim().is_empty(),
                "allow-list entry {name} needs a reason"
            );
            (name.to_owned(), reason.to_owned())
        })
        .collect()
}

#[test]
fn corpus_packets_agree_with_tshark() {
    let Some(corpus) = pcap_testkit::corpus("corpus_packets_agree_with_tshark") else {
        return;
    };
    let manifest = corpus.manifest();
    let allow = allow_list();
    let (mut files, mut packets_compared, mut fields_compared) = (0, 0u64, 0u64);
    let mut mismatches: Vec<(String, String)> = Vec::new();
    for name in corpus.captures() {
        files += 1;
        let row = manifest
            .get(&name)
            .unwrap_or_else(|| panic!("{name} not in MANIFEST.tsv"));
        let expect_error = row.get("read_error") == "yes";
        let expected_count: usize = row.get("packets_decoded").parse().unwrap();
        let oracle = corpus.oracle_tsv(&name, "packets.tsv");
        let rows: Vec<_> = oracle.iter().flat_map(|t| t.rows()).collect();
        let mut problems = Vec::new();

        let mut count = 0usize;
        let mut error = None;
        let mut file_link_type = None;
        let mut packet_link_types: Vec<LinkType> = Vec::new();
        match FileReader::open(corpus.capture_path(&name)) {
            Err(e) => error = Some(e),
            Ok(mut reader) => {
                file_link_type = Some(reader.link_type());
                loop {
                    match reader.next_packet() {
                        Ok(Some(p)) => {
                            if !packet_link_types.contains(&p.link_type) {
                                packet_link_types.push(p.link_type);
                            }
                            if p.caplen as usize != p.data.len() {
                                problems
                                    .push(format!("packet {}: caplen != data.len()", count + 1));
                            }
                            if let Some(r) = rows.get(count) {
                                packets_compared += 1;
                                let n = count + 1;
                                if r.get("frame.number") != n.to_string() {
                                    problems.push(format!(
                                        "row {n} is frame {}",
                                        r.get("frame.number")
                                    ));
                                }
                                let want_ts = epoch_ns(r.get("frame.time_epoch")).unwrap_or(0);
                                if want_ts != i128::from(p.ts_ns) {
                                    problems.push(format!(
                                        "packet {n}: ts {} != tshark {}",
                                        p.ts_ns, want_ts
                                    ));
                                }
                                if r.get("frame.len") != p.orig_len.to_string() {
                                    problems.push(format!(
                                        "packet {n}: len {} != tshark {}",
                                        p.orig_len,
                                        r.get("frame.len")
                                    ));
                                }
                                if r.get("frame.cap_len") != p.caplen.to_string() {
                                    problems.push(format!(
                                        "packet {n}: caplen {} != tshark {}",
                                        p.caplen,
                                        r.get("frame.cap_len")
                                    ));
                                }
                                fields_compared += 3;
                            }
                            count += 1;
                        }
                        Ok(None) => break,
                        Err(e) => {
                            error = Some(e);
                            break;
                        }
                    }
                }
            }
        }
        if count != expected_count || count != rows.len() {
            problems.push(format!(
                "{count} packets, manifest {expected_count}, packets.tsv {}",
                rows.len()
            ));
        }
        match (&error, expect_error) {
            (Some(e), false) => problems.push(format!("unexpected error: {e}")),
            (None, true) => problems.push("no error on a damaged file".into()),
            (Some(e), true) => {
                let text = e.to_string();
                assert!(
                    !text.contains('\n') && text == text.to_lowercase(),
                    "{text}"
                );
                eprintln!("  {name}: {count} packets then: {text}");
            }
            (None, false) => {}
        }
        // Link type: the manifest's encapsulation, "per-packet" when several are in use.
        let want_encap = row.get("link_type");
        let got_encap = match (file_link_type, packet_link_types.as_slice()) {
            (None, _) => "unknown".to_owned(),
            (_, [one]) => wireshark_encap(*one),
            (_, []) => file_link_type
                .flatten()
                .map(wireshark_encap)
                .unwrap_or("unknown".into()),
            _ => "per-packet".to_owned(),
        };
        if want_encap != got_encap {
            problems.push(format!("link type {got_encap}, manifest {want_encap}"));
        }
        // capinfos' packet count (for damaged files: the packets before the error).
        let capinfos =
            std::fs::read_to_string(corpus.oracle_path(&name, "capinfos.txt")).unwrap_or_default();
        if let Some(line) = capinfos
            .lines()
            .find(|l| l.starts_with("Number of packets:"))
        {
            let n = line.trim_start_matches("Number of packets:").trim();
            if n != count.to_string() {
                problems.push(format!("capinfos says {n} packets, we read {count}"));
            }
        }
        for p in problems {
            mismatches.push((name.clone(), p));
        }
    }
    let (allowed, failing): (Vec<_>, Vec<_>) = mismatches
        .iter()
        .partition(|(name, _)| allow.contains_key(name));
    eprintln!(
        "corpus: {files} files, {packets_compared} packets and {fields_compared} fields compared, {} mismatches ({} allow-listed)",
        mismatches.len(),
        allowed.len()
    );
    for (name, p) in &allowed {
        eprintln!("  allowed {name}: {p} ({})", allow[name.as_str()]);
    }
    for (name, p) in &failing {
        eprintln!("  MISMATCH {name}: {p}");
    }
    assert!(
        failing.is_empty(),
        "{} mismatches not allow-listed",
        failing.len()
    );
}

/// Interface names from the Interface Description Blocks' `if_name` options, as
/// `tshark -T fields -e frame.interface_id -e frame.interface_name` (4.0.17) gives them;
/// interfaces without the option have none (tshark: `unknown`).
#[test]
fn pcapng_interface_names_agree_with_tshark() {
    let Some(corpus) = pcap_testkit::corpus("pcapng_interface_names_agree_with_tshark") else {
        return;
    };
    // (interface id, its name)
    type Names<'a> = &'a [(u32, Option<&'a str>)];
    let cases: [(&str, Names<'_>); 5] = [
        (
            "pcapng-many-interfaces.pcapng",
            &[(0, Some("en0")), (10, Some("lo0"))],
        ),
        (
            "pcapng-suite-le-101.pcapng",
            &[
                (0, Some("eth0")),
                (1, Some("null1")),
                (2, Some("silly ethernet interface 2")),
            ],
        ),
        (
            "pcapng-multi-interface.pcapng",
            &[
                (0, Some("eth0")),
                (
                    1,
                    Some("\\Device\\NPF_{5AE6EDB4-EFF9-46B3-A3C2-EE50C688A9E6}"),
                ),
            ],
        ),
        (
            "pcapng-suite-be-008.pcapng",
            &[(0, Some("eth-_0 foo")), (1, Some("en1"))],
        ),
        ("pcapng-two-interfaces-own.pcapng", &[(0, None), (1, None)]),
    ];
    for (name, want) in cases {
        let mut r = FileReader::open(corpus.capture_path(name)).unwrap();
        // Read every packet: IDBs may come between them.
        while let Ok(Some(_)) = r.next_packet() {}
        for (id, name_want) in want {
            assert_eq!(r.interface_name(*id), *name_want, "{name} interface {id}");
        }
        assert_eq!(r.interface_name(u32::MAX), None);
    }
}
