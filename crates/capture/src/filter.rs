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
    let dead = pcap::Capture::dead(pcap::Linktype(i32::from(link_type.0)))
        .map_err(|e| bad_filter(expr, link_type, &e.to_string()))?;
    dead.compile(expr, true).map_err(|e| {
        let message = match e {
            pcap::Error::PcapError(m) => m,
            other => other.to_string(),
        };
        bad_filter(expr, link_type, &message)
    })
}

fn bad_filter(expr: &str, link_type: LinkType, message: &str) -> CaptureError {
    CaptureError::BadFilter {
        expr: expr.to_owned(),
        link_type,
        message: one_line(message),
    }
}
