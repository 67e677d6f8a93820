//! Writing pcap and pcapng files, so a capture can be saved and read back unchanged.
//!
//! Both writers use little-endian byte order and nanosecond timestamps by default, so that
//! every [`Packet`] field round-trips exactly. They write straight to the given `Write`: wrap
//! a file in a `BufWriter`.

use std::io::Write;

use crate::error::CaptureError;
use crate::packet::{LinkType, Packet};
use crate::pcap;
use crate::pcapng::{self, DecryptionSecrets};

/// Timestamp precision of a classic pcap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TsPrecision {
    /// Microseconds (magic 0xa1b2c3d4): what most tools expect; sub-microsecond digits are dropped.
    Micro,
    /// Nanoseconds (magic 0xa1b23c4d): exact.
    #[default]
    Nano,
}

/// A classic pcap writer (one link type per file).
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    link_type: LinkType,
    precision: TsPrecision,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header (nanosecond precision).
    pub fn new(out: W, link_type: LinkType, snaplen: u32) -> Result<Self, CaptureError> {
        PcapWriter::with_precision(out, link_type, snaplen, TsPrecision::Nano)
    }

    /// Writes the file header with the given timestamp precision.
    pub fn with_precision(
        mut out: W,
        link_type: LinkType,
        snaplen: u32,
        precision: TsPrecision,
    ) -> Result<Self, CaptureError> {
        out.write_all(&pcap::file_header_bytes(
            precision == TsPrecision::Nano,
            snaplen,
            link_type,
        ))?;
        Ok(PcapWriter {
            out,
            link_type,
            precision,
        })
    }

    /// Appends one packet; its link type must be the file's.
    pub fn write_packet(&mut self, packet: &Packet<'_>) -> Result<(), CaptureError> {
        if packet.link_type != self.link_type {
            return Err(CaptureError::LinkTypeMismatch {
                expected: self.link_type,
                got: packet.link_type,
            });
        }
        let out_of_range = CaptureError::TimestampOutOfRange {
            ts_ns: packet.ts_ns,
        };
        let secs =
            u32::try_from(packet.ts_ns.div_euclid(1_000_000_000)).map_err(|_| out_of_range)?;
        let nanos = packet.ts_ns.rem_euclid(1_000_000_000) as u32;
        let frac = match self.precision {
            TsPrecision::Nano => nanos,
            TsPrecision::Micro => nanos / 1000,
        };
        let caplen = data_len(packet)?;
        let mut header = [0u8; pcap::RECORD_HEADER_LEN];
        for (dst, v) in header
            .chunks_exact_mut(4)
            .zip([secs, frac, caplen, packet.orig_len])
        {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        self.out.write_all(&header)?;
        self.out.write_all(packet.data)?;
        Ok(())
    }

    /// Flushes the output.
    pub fn flush(&mut self) -> Result<(), CaptureError> {
        Ok(self.out.flush()?)
    }

    /// Flushes and returns the output.
    pub fn into_inner(mut self) -> Result<W, CaptureError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The captured length written for a packet: the length of its data.
fn data_len(packet: &Packet<'_>) -> Result<u32, CaptureError> {
    u32::try_from(packet.data.len()).map_err(|_| too_long(packet.data.len()))
}

/// A packet too long for a 32-bit length field.
fn too_long(len: usize) -> CaptureError {
    CaptureError::TooLong {
        part: crate::error::Part::RecordData,
        at: crate::error::Position {
            after_packet: 0,
            offset: 0,
        },
        len: len as u64,
        limit: u32::MAX.into(),
    }
}

/// A pcapng writer: one section, one interface description per (source interface, link
/// type) pair met, nanosecond resolution, optional packet comments.
#[derive(Debug)]
pub struct PcapNgWriter<W: Write> {
    out: W,
    snaplen: u32,
    /// (source interface, link type) of each interface written, by output interface id.
    interfaces: Vec<(u32, LinkType)>,
    scratch: Vec<u8>,
}

impl<W: Write> PcapNgWriter<W> {
    /// Writes the section header; interfaces are described as packets need them.
    pub fn new(mut out: W, snaplen: u32) -> Result<Self, CaptureError> {
        let mut shb = Vec::with_capacity(28);
        for v in [pcapng::SHB, 28, pcapng::BYTE_ORDER_MAGIC] {
            shb.extend_from_slice(&v.to_le_bytes());
        }
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        shb.extend_from_slice(&28u32.to_le_bytes());
        out.write_all(&shb)?;
        Ok(PcapNgWriter {
            out,
            snaplen,
            interfaces: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// Appends one packet.
    pub fn write_packet(&mut self, packet: &Packet<'_>) -> Result<(), CaptureError> {
        self.write_packet_with_comment(packet, None)
    }

    /// Appends one packet with an optional comment (`opt_comment`).
    pub fn write_packet_with_comment(
        &mut self,
        packet: &Packet<'_>,
        comment: Option<&str>,
    ) -> Result<(), CaptureError> {
        let key = (packet.interface, packet.link_type);
        let id = match self.interfaces.iter().position(|k| *k == key) {
            Some(id) => id,
            None => {
                self.write_idb(packet.link_type)?;
                self.interfaces.push(key);
                self.interfaces.len() - 1
            }
        };
        let caplen = data_len(packet)?;
        // Timestamps before 1970 cannot be expressed in unsigned units; they are clamped to 0.
        let ts = u64::try_from(packet.ts_ns).unwrap_or(0);
        let comment = comment
            .map(str::as_bytes)
            .filter(|c| c.len() <= usize::from(u16::MAX));
        let padded = packet.data.len().next_multiple_of(4);
        let opts_len = comment.map_or(0, |c| 4 + c.len().next_multiple_of(4) + 4);
        let total = 32 + padded + opts_len;
        let total32 = u32::try_from(total).map_err(|_| too_long(total))?;
        let s = &mut self.scratch;
        s.clear();
        for v in [
            pcapng::EPB,
            total32,
            id as u32,
            (ts >> 32) as u32,
            ts as u32,
            caplen,
            packet.orig_len,
        ] {
            s.extend_from_slice(&v.to_le_bytes());
        }
        s.extend_from_slice(packet.data);
        s.resize(28 + padded, 0);
        if let Some(c) = comment {
            s.extend_from_slice(&1u16.to_le_bytes());
            s.extend_from_slice(&(c.len() as u16).to_le_bytes());
            s.extend_from_slice(c);
            s.resize(28 + padded + 4 + c.len().next_multiple_of(4), 0);
            s.extend_from_slice(&0u32.to_le_bytes());
        }
        s.extend_from_slice(&total32.to_le_bytes());
        self.out.write_all(s)?;
        Ok(())
    }

    /// Appends a Decryption Secrets Block, for the packets written after it (a reader
    /// such as Wireshark needs the secrets before the sessions they decrypt).
    pub fn write_secrets(&mut self, secrets: &DecryptionSecrets) -> Result<(), CaptureError> {
        let padded = secrets.data.len().next_multiple_of(4);
        let total = 20 + padded;
        let total32 = u32::try_from(total).map_err(|_| too_long(total))?;
        let len = u32::try_from(secrets.data.len()).map_err(|_| too_long(total))?;
        let s = &mut self.scratch;
        s.clear();
        for v in [pcapng::DSB, total32, secrets.kind, len] {
            s.extend_from_slice(&v.to_le_bytes());
        }
        s.extend_from_slice(&secrets.data);
        s.resize(16 + padded, 0);
        s.extend_from_slice(&total32.to_le_bytes());
        self.out.write_all(s)?;
        Ok(())
    }

    fn write_idb(&mut self, link_type: LinkType) -> Result<(), CaptureError> {
        // link type, reserved, snaplen, if_tsresol = 9 (padded), end of options.
        let mut idb = Vec::with_capacity(32);
        for v in [pcapng::IDB, 32] {
            idb.extend_from_slice(&v.to_le_bytes());
        }
        idb.extend_from_slice(&link_type.0.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&self.snaplen.to_le_bytes());
        idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0]);
        idb.extend_from_slice(&0u32.to_le_bytes());
        idb.extend_from_slice(&32u32.to_le_bytes());
        self.out.write_all(&idb)?;
        Ok(())
    }

    /// Flushes the output.
    pub fn flush(&mut self) -> Result<(), CaptureError> {
        Ok(self.out.flush()?)
    }

    /// Flushes and returns the output.
    pub fn into_inner(mut self) -> Result<W, CaptureError> {
        self.out.flush()?;
        Ok(self.out)
    }
}
