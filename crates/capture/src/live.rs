//! Live capture through libpcap: devices, opening with options, packets and statistics.

use std::net::IpAddr;

use crate::error::{CaptureError, one_line};
use crate::packet::{LinkType, Packet};

/// A network interface libpcap can capture on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Device {
    /// Name to pass to [`LiveCapture::open`] (e.g. `eth0`, `lo`, `any`).
    pub name: String,
    /// Human-readable description, when the system provides one.
    pub description: Option<String>,
    /// Addresses configured on the interface.
    pub addresses: Vec<Address>,
    /// A loopback interface.
    pub loopback: bool,
    /// The interface is up.
    pub up: bool,
    /// The interface is running (has carrier).
    pub running: bool,
}

/// One address of a [`Device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Address {
    /// The address.
    pub addr: IpAddr,
    /// Its network mask.
    pub netmask: Option<IpAddr>,
    /// Broadcast address.
    pub broadcast: Option<IpAddr>,
    /// Peer address of a point-to-point link.
    pub destination: Option<IpAddr>,
}

impl From<pcap::Device> for Device {
    fn from(d: pcap::Device) -> Device {
        Device {
            loopback: d.flags.is_loopback(),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            name: d.name,
            description: d.desc,
            addresses: d
                .addresses
                .iter()
                .map(|a| Address {
                    addr: a.addr,
                    netmask: a.netmask,
                    broadcast: a.broadcast_addr,
                    destination: a.dst_addr,
                })
                .collect(),
        }
    }
}

/// Every device libpcap can capture on.
pub fn devices() -> Result<Vec<Device>, CaptureError> {
    let list = pcap::Device::list().map_err(|e| live_error("", e))?;
    Ok(list.into_iter().map(Device::from).collect())
}

/// The device libpcap would pick by default (the first suitable one), if any.
pub fn default_device() -> Result<Option<Device>, CaptureError> {
    Ok(pcap::Device::lookup()
        .map_err(|e| live_error("", e))?
        .map(Device::from))
}

/// The version of the libpcap in use, e.g. `libpcap version 1.10.3`.
///
/// The `pcap` crate does not wrap `pcap_lib_version()` and this crate forbids `unsafe`, so
/// the version is read from the name of the shared library mapped into the process (Linux);
/// elsewhere, or if it cannot be found, the text says the version is unknown.
pub fn lib_version() -> String {
    // Make sure libpcap is loaded before looking (it is linked, this only forces a call).
    let _ = pcap::Device::lookup();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines()
        .filter_map(|l| l.rsplit('/').next())
        .find_map(|file| file.strip_prefix("libpcap.so."))
        .map(|v| format!("libpcap version {v}"))
        .unwrap_or_else(|| "libpcap (version unknown)".to_owned())
}

/// How to open a live capture. Start from `LiveOptions::default()` and change fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveOptions {
    /// Bytes kept of each packet (tcpdump's default 262144).
    pub snaplen: u32,
    /// Put the interface in promiscuous mode.
    pub promiscuous: bool,
    /// Deliver packets as soon as they arrive instead of batching them.
    pub immediate: bool,
    /// Kernel buffer size in bytes (`None`: libpcap's default).
    pub buffer_size: Option<u32>,
    /// Read timeout in milliseconds: how long one wait for packets lasts.
    pub timeout_ms: u32,
    /// BPF filter expression, applied in the kernel.
    pub filter: Option<String>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            snaplen: 262_144,
            promiscuous: true,
            immediate: false,
            buffer_size: None,
            timeout_ms: 1000,
            filter: None,
        }
    }
}

/// Capture statistics since the capture was opened (libpcap `pcap_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Packets received by the filter.
    pub received: u32,
    /// Packets dropped because the kernel buffer was full.
    pub dropped: u32,
    /// Packets dropped by the interface or its driver.
    pub if_dropped: u32,
}

/// A handle that stops a blocking [`LiveCapture::next_packet`] from another thread (or a
/// signal handler thread): the capture then returns `Ok(None)`.
#[derive(Clone)]
pub struct Breaker(std::sync::Arc<pcap::BreakLoop>);

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Breaker")
    }
}

impl Breaker {
    /// Makes the capture's pending or next wait return `Ok(None)`.
    pub fn stop(&self) {
        self.0.breakloop();
    }
}

/// An open live capture.
pub struct LiveCapture {
    cap: pcap::Capture<pcap::Active>,
    device: String,
    link_type: LinkType,
    /// The packet last returned, copied out of libpcap's ring (see `next_packet`).
    buf: Vec<u8>,
    /// Header of the packet in `buf`; `None` once stopped.
    header: Option<Header>,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("device", &self.device)
            .field("link_type", &self.link_type)
            .finish_non_exhaustive()
    }
}

impl LiveCapture {
    /// Opens `device` with `options`, applying the filter if any.
    pub fn open(device: &str, options: &LiveOptions) -> Result<LiveCapture, CaptureError> {
        let to_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let mut inactive = pcap::Capture::from_device(device)
            .map_err(|e| live_error(device, e))?
            .snaplen(to_i32(options.snaplen))
            .promisc(options.promiscuous)
            .immediate_mode(options.immediate)
            .timeout(to_i32(options.timeout_ms));
        if let Some(size) = options.buffer_size {
            inactive = inactive.buffer_size(to_i32(size));
        }
        let cap = inactive.open().map_err(|e| live_error(device, e))?;
        let link_type = LinkType(u16::try_from(cap.get_datalink().0).unwrap_or(u16::MAX));
        let mut live = LiveCapture {
            cap,
            device: device.to_owned(),
            link_type,
            buf: Vec::new(),
            header: None,
        };
        if let Some(expr) = &options.filter {
            live.set_filter(expr)?;
        }
        Ok(live)
    }

    /// Replaces the kernel BPF filter.
    pub fn set_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        // Compiled once on our side first, for a typed error on a bad expression.
        crate::filter::compile(expr, self.link_type)?;
        self.cap
            .filter(expr, true)
            .map_err(|e| live_error(&self.device, e))
    }

    /// The device's link type.
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// The device name.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// A handle to stop [`LiveCapture::next_packet`] from elsewhere.
    pub fn breaker(&mut self) -> Breaker {
        Breaker(std::sync::Arc::new(self.cap.breakloop_handle()))
    }

    /// Waits for the next packet; `Ok(None)` once stopped through a [`Breaker`].
    ///
    /// Read timeouts are waited through. The packet bytes are copied once into a buffer the
    /// capture reuses (no allocation per packet): lending libpcap's own buffer across the
    /// retry loop is not expressible in safe Rust today.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        loop {
            if !self.poll()? {
                continue;
            }
            return Ok(self.current());
        }
    }

    /// Waits at most one read timeout: `Ok(Some)` with a packet, `Ok(None)` if none came
    /// (or the capture was stopped).
    pub fn next_packet_timeout(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.poll()? {
            Ok(self.current())
        } else {
            Ok(None)
        }
    }

    /// Reads one packet into `buf`; false on timeout.
    // `time_t` and `suseconds_t` are i64 here but not on every platform.
    #[allow(clippy::useless_conversion)]
    fn poll(&mut self) -> Result<bool, CaptureError> {
        match self.cap.next_packet() {
            Ok(p) => {
                let h = p.header;
                self.buf.clear();
                self.buf.extend_from_slice(p.data);
                self.header = Some(Header {
                    ts_ns: i64::from(h.ts.tv_sec) * 1_000_000_000 + i64::from(h.ts.tv_usec) * 1000,
                    orig_len: h.len,
                });
                Ok(true)
            }
            Err(pcap::Error::TimeoutExpired) => Ok(false),
            Err(pcap::Error::NoMorePackets) => {
                self.header = None;
                Ok(true)
            }
            Err(e) => Err(live_error(&self.device, e)),
        }
    }

    fn current(&self) -> Option<Packet<'_>> {
        let h = self.header?;
        Some(Packet {
            ts_ns: h.ts_ns,
            caplen: u32::try_from(self.buf.len()).unwrap_or(u32::MAX),
            orig_len: h.orig_len,
            link_type: self.link_type,
            interface: 0,
            fcs_len: 0,
            data: &self.buf,
        })
    }

    /// Statistics since the capture was opened.
    pub fn stats(&mut self) -> Result<Stats, CaptureError> {
        let s = self.cap.stats().map_err(|e| live_error(&self.device, e))?;
        Ok(Stats {
            received: s.received,
            dropped: s.dropped,
            if_dropped: s.if_dropped,
        })
    }
}

/// Header fields of the packet in `LiveCapture::buf`.
#[derive(Debug, Clone, Copy)]
struct Header {
    ts_ns: i64,
    orig_len: u32,
}

/// Maps a libpcap error to a typed error for `device`.
fn live_error(device: &str, e: pcap::Error) -> CaptureError {
    let message = one_line(&match e {
        pcap::Error::PcapError(m) => m,
        other => other.to_string(),
    });
    let lower = message.to_lowercase();
    let device = device.to_owned();
    if lower.contains("permission") || lower.contains("not permitted") {
        CaptureError::PermissionDenied { device, message }
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        CaptureError::NoSuchDevice { device, message }
    } else {
        CaptureError::Live { device, message }
    }
}
