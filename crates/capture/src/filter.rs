//! BPF filters for files: one program per link type, compiled by libpcap on a dead handle
//! and run with `pcap_offline_filter`.

use crate::error::{CaptureError, one_line};
use crate::packet::LinkType;

/// A filter expression and its compiled programs, one per link type met so far (a pcapng
/// file can mix link types).
pub(crate) struct Filter {
    expr: String,
    programs: Vec<(LinkType, pcap::BpfProgram)>,
}

impl Filter {
    /// A filter not compiled yet.
    pub(crate) fn new(expr: &str) -> Filter {
        Filter {
            expr: expr.to_owned(),
            programs: Vec::new(),
        }
    }

    /// Compiles for `link_type` now, so a bad expression is reported before reading.
    pub(crate) fn check(&mut self, link_type: LinkType) -> Result<(), CaptureError> {
        self.program(link_type).map(|_| ())
    }

    /// Whether the packet bytes (of the given link type) pass the filter.
    #[inline]
    pub(crate) fn matches(
        &mut self,
        link_type: LinkType,
        data: &[u8],
    ) -> Result<bool, CaptureError> {
        Ok(self.program(link_type)?.filter(data))
    }

    fn program(&mut self, link_type: LinkType) -> Result<&pcap::BpfProgram, CaptureError> {
        let index = match self.programs.iter().position(|(lt, _)| *lt == link_type) {
            Some(i) => i,
            None => {
                let program = compile(&self.expr, link_type)?;
                self.programs.push((link_type, program));
                self.programs.len() - 1
            }
        };
        self.programs
            .get(index)
            .map(|(_, p)| p)
            .ok_or_else(|| bad_filter(&self.expr, link_type, "internal: program missing"))
    }
}

/// Compiles `expr` for `link_type` with libpcap, as tcpdump would (optimised).
pub(crate) fn compile(expr: &str, link_type: LinkType) -> Result<pcap::BpfProgram, CaptureError> {
    let dead = pcap::Capture::dead(pcap::Linktype(dlt(link_type)))
        .map_err(|e| bad_filter(expr, link_type, &e.to_string()))?;
    dead.compile(expr, true).map_err(|e| {
        let message = match e {
            pcap::Error::PcapError(m) => m,
            other => other.to_string(),
        };
        bad_filter(expr, link_type, &message)
    })
}

/// The libpcap `DLT_*` value for a file `LINKTYPE_*` (they differ for a few historical types;
/// `pcap_open_dead` wants a DLT). Mirrors libpcap's `linktype_to_dlt` for Linux.
fn dlt(link_type: LinkType) -> i32 {
    match link_type.0 {
        100 => 11,      // ATM_RFC1483
        101 | 14 => 12, // RAW (14: OpenBSD's number for it)
        102 => 15,      // SLIP_BSDOS
        103 => 16,      // PPP_BSDOS
        106 => 19,      // ATM_CLIP (Linux)
        other => i32::from(other),
    }
}

fn bad_filter(expr: &str, link_type: LinkType, message: &str) -> CaptureError {
    CaptureError::BadFilter {
        expr: expr.to_owned(),
        link_type,
        message: one_line(message),
    }
}
