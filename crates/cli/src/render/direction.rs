//! The interface and direction that Linux cooked captures (`-i any`) carry, shown before a
//! packet's line as tcpdump does: `lo    In  ` for SLL2, which has the interface index;
//! for SLL (v1) only the direction, and only with `-e`, as tcpdump.
//!
//! The index is named from this machine's interfaces (`/sys/class/net/*/ifindex`), as
//! tcpdump's `if_indextoname` does, also for a file: on another machine the names may not be
//! the capturing host's. An index this machine does not have shows as `?`.

use std::collections::HashMap;
use std::fmt::Write;

use pcap_decode::sll::SllView;

use super::escape::Escaped;

/// Where the interface names are read from.
const SYS_CLASS_NET: &str = "/sys/class/net";

/// Interface names by index, read once.
#[derive(Debug, Default)]
pub struct InterfaceNames {
    names: Option<HashMap<u32, String>>,
}

impl InterfaceNames {
    fn name(&mut self, index: u32) -> Option<&str> {
        self.names
            .get_or_insert_with(read_names)
            .get(&index)
            .map(String::as_str)
    }

    /// Writes `sll`'s interface (SLL2) and direction, padded as tcpdump pads them, and a
    /// space; for SLL (v1), the direction only when `link` (`-e`).
    pub fn write(&mut self, out: &mut String, sll: &SllView<'_>, link: bool) {
        // Writing into a String cannot fail.
        match sll.ifindex() {
            Some(index) => {
                let name = self
                    .name(index)
                    .map_or_else(|| "?".to_owned(), |n| Escaped::plain(n).to_string());
                let _ = write!(out, "{name:<5} {:<3} ", direction(sll.packet_type()));
            }
            None if link => {
                let _ = write!(out, "{:<3} ", direction(sll.packet_type()));
            }
            None => {}
        }
    }
}

/// tcpdump's name of a cooked packet type (`sll_pkttype_values`).
fn direction(packet_type: u16) -> String {
    match packet_type {
        0 => "In".to_owned(),
        1 => "B".to_owned(),
        2 => "M".to_owned(),
        3 => "P".to_owned(),
        4 => "Out".to_owned(),
        t => format!("#{t}"),
    }
}

/// Every interface of this machine with its index; none when /sys cannot be read.
fn read_names() -> HashMap<u32, String> {
    let mut names = HashMap::new();
    let Ok(dir) = std::fs::read_dir(SYS_CLASS_NET) else {
        return names;
    };
    for entry in dir.flatten() {
        let index = std::fs::read_to_string(entry.path().join("ifindex"))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        if let (Some(index), Ok(name)) = (index, entry.file_name().into_string()) {
            names.insert(index, name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// An SLL2 header: protocol IPv4, interface `index`, packet type `pkttype`.
    fn sll2(index: u32, pkttype: u8) -> Vec<u8> {
        let mut h = vec![0x08, 0x00, 0, 0];
        h.extend_from_slice(&index.to_be_bytes());
        h.extend_from_slice(&[0, 1, pkttype, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        h
    }

    #[test]
    fn sll2_shows_the_local_name_of_its_index_and_the_direction() {
        let mut names = InterfaceNames::default();
        // The loopback device's index, read as tcpdump would.
        let lo = std::fs::read_to_string("/sys/class/net/lo/ifindex");
        if let Ok(lo) = lo {
            let h = sll2(lo.trim().parse().unwrap(), 4);
            let (view, _) = SllView::parse_v2(&h).unwrap();
            let mut out = String::new();
            names.write(&mut out, &view, false);
            assert_eq!(out, "lo    Out ");
        }
        let h = sll2(u32::MAX, 0);
        let (view, _) = SllView::parse_v2(&h).unwrap();
        let mut out = String::new();
        names.write(&mut out, &view, false);
        assert_eq!(out, "?     In  ");
    }

    #[test]
    fn sll_v1_shows_the_direction_with_e_only() {
        let mut h = vec![0, 1, 0, 1, 0, 6];
        h.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00]);
        let (view, _) = SllView::parse_v1(&h).unwrap();
        let mut names = InterfaceNames::default();
        let mut out = String::new();
        names.write(&mut out, &view, false);
        assert_eq!(out, "");
        names.write(&mut out, &view, true);
        assert_eq!(out, "B   ");
    }
}
