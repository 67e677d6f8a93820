//! Live capture on the loopback device: list devices, open `lo` with a BPF filter, send UDP
//! datagrams to ourselves and see them. Needs root (or CAP_NET_RAW); skips loudly otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::UdpSocket;

use pcap_capture::live::{self, LiveCapture, LiveOptions};
use pcap_capture::{CaptureError, LinkType, Source};

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

#[test]
fn devices_and_version() {
    let version = live::lib_version();
    assert!(version.starts_with("libpcap"), "{version}");
    eprintln!("{version}");
    let devices = match live::devices() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("SKIPPED devices_and_version: cannot list devices: {e}");
            return;
        }
    };
    let Some(lo) = devices.iter().find(|d| d.name == "lo") else {
        eprintln!("SKIPPED devices_and_version: no lo device");
        return;
    };
    assert!(lo.loopback && lo.up, "{lo:?}");
    let v4 = lo
        .addresses
        .iter()
        .find(|a| a.addr == std::net::Ipv4Addr::LOCALHOST)
        .unwrap_or_else(|| panic!("lo has no 127.0.0.1: {lo:?}"));
    assert_eq!(
        v4.netmask,
        Some(std::net::Ipv4Addr::new(255, 0, 0, 0).into())
    );
    let default = live::default_device().unwrap();
    assert!(default.is_some());
}

#[test]
fn open_errors_are_typed() {
    if !is_root() {
        eprintln!("SKIPPED open_errors_are_typed: not root");
        return;
    }
    let err = LiveCapture::open("nosuchdev0", &LiveOptions::default()).unwrap_err();
    assert!(matches!(err, CaptureError::NoSuchDevice { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("no such device nosuchdev0: ") && !text.contains('\n'),
        "{text}"
    );

    let mut options = LiveOptions::default();
    options.filter = Some("udp port".into());
    match LiveCapture::open("lo", &options) {
        Err(CaptureError::BadFilter { expr, .. }) => assert_eq!(expr, "udp port"),
        Err(CaptureError::PermissionDenied { .. }) | Err(CaptureError::NoSuchDevice { .. }) => {
            eprintln!("SKIPPED open_errors_are_typed (bad filter part): cannot open lo");
        }
        other => panic!("expected a bad filter error, got {other:?}"),
    }
}

#[test]
fn loopback_sees_its_own_udp() {
    if !is_root() {
        eprintln!("SKIPPED loopback_sees_its_own_udp: not root, cannot capture");
        return;
    }
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = receiver.local_addr().unwrap().port();
    let mut options = LiveOptions::default();
    options.snaplen = 65535;
    options.immediate = true;
    options.timeout_ms = 100;
    options.buffer_size = Some(1 << 20);
    options.promiscuous = false;
    options.filter = Some(format!("udp and dst port {port}"));
    let mut cap = match LiveCapture::open("lo", &options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIPPED loopback_sees_its_own_udp: cannot open lo: {e}");
            return;
        }
    };
    assert_eq!(cap.link_type(), LinkType::ETHERNET);
    assert_eq!(cap.device(), "lo");

    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    const COUNT: usize = 5;
    for i in 0..COUNT {
        sender
            .send_to(
                format!("pcap-capture-test-{i}").as_bytes(),
                ("127.0.0.1", port),
            )
            .unwrap();
    }
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;

    let mut seen = Vec::new();
    // Bounded: at most 100 read timeouts (10 s) if the packets never show up.
    for _ in 0..100 {
        if seen.len() == COUNT {
            break;
        }
        if let Some(p) = cap.next_packet_timeout().unwrap() {
            assert_eq!(p.link_type, LinkType::ETHERNET);
            assert_eq!(p.caplen as usize, p.data.len());
            assert_eq!(p.orig_len, p.caplen);
            // Ethernet 14 + IPv4 20 + UDP 8, then the payload.
            let payload = p.data.get(42..).unwrap();
            assert!(p.ts_ns > before - 60_000_000_000 && p.ts_ns < before + 60_000_000_000);
            seen.push(String::from_utf8_lossy(payload).into_owned());
        }
    }
    let want: Vec<String> = (0..COUNT)
        .map(|i| format!("pcap-capture-test-{i}"))
        .collect();
    assert_eq!(seen, want);

    let stats = cap.stats().unwrap();
    assert!(stats.received >= COUNT as u32, "{stats:?}");

    // Stopping makes the blocking read return the end.
    let breaker = cap.breaker();
    let mut source = Source::from(cap);
    assert_eq!(source.link_type(), Some(LinkType::ETHERNET));
    breaker.stop();
    assert!(source.next_packet().unwrap().is_none());
    assert!(source.stats().unwrap().is_ok());
}
