//! The tunnel layers of a packet: IP-in-IP, GRE, the UDP tunnels (VXLAN, GENEVE, GTP-U,
//! Teredo...), MPLS and PPP. Each is kept as a [`Tunnel`] and the packet inside it is
//! decoded on; they are off the plain IP path (`#[inline(never)]`), which stays short.

use super::*;

impl<'a> Decoded<'a> {
    /// IP-in-IP or GRE at `at`.
    #[inline(never)]
    pub(super) fn decode_ip_tunnel(
        &mut self,
        protocol: u8,
        payload: &'a [u8],
        at: usize,
    ) -> Result<(), DecodeError> {
        if self.fragment().is_some_and(|f| f.more) {
            // The first fragment of a tunnelled datagram carries only part of the inner
            // packet: like tshark, leave it for reassembly.
            return Ok(());
        }
        let h = if protocol == ip_proto::GRE {
            tunnel::gre(payload, at)?
        } else {
            tunnel::Header {
                kind: TunnelKind::IpInIp,
                id: None,
                next: if protocol == ip_proto::IPIP {
                    Next::Ipv4
                } else {
                    Next::Ipv6
                },
                len: 0,
            }
        };
        self.enter(h, payload, at)
    }

    /// A UDP payload on a tunnel's port whose header validates is decoded as that tunnel;
    /// anything else stays a UDP payload.
    #[inline(never)]
    pub(super) fn decode_udp_tunnel(
        &mut self,
        src: u16,
        dst: u16,
        data: &'a [u8],
        udp_at: usize,
    ) -> Result<(), DecodeError> {
        use tunnel::port;
        let on = |p: u16| src == p || dst == p;
        let at = udp_at.saturating_add(crate::udp::HEADER_LEN);
        if self.fragment().is_some_and(|f| f.more) {
            return Ok(());
        }
        let h = if on(port::VXLAN) {
            tunnel::vxlan(data)
        } else if on(port::VXLAN_GPE) {
            tunnel::vxlan_gpe(data)
        } else if on(port::GENEVE) {
            tunnel::geneve(data)
        } else if on(port::GTP_U) {
            tunnel::gtp_u(data)
        } else if on(port::TEREDO) {
            tunnel::teredo(data)
        } else if on(port::AYIYA) {
            tunnel::ayiya(data)
        } else if on(port::GRE_UDP) {
            tunnel::gre(data, at).ok()
        } else {
            None
        };
        match h {
            Some(h) => self.enter(h, data, at),
            None => Ok(()),
        }
    }

    /// Records the tunnel `h`, found at `off`, and decodes what it carries: the outer network
    /// and transport layers are replaced by the inner ones.
    pub(super) fn enter(
        &mut self,
        h: tunnel::Header,
        data: &'a [u8],
        off: usize,
    ) -> Result<(), DecodeError> {
        let outer = match &self.net {
            Some(Net::Ipv4(v)) => v.header_bytes(),
            Some(Net::Ipv6(v)) => v.header_bytes(),
            _ => &[],
        };
        let t = Tunnel::new(h.kind, h.id, off, outer);
        if self.tunnels.try_push(t).is_err() {
            return Err(DecodeError::Malformed {
                layer: Layer::Tunnel,
                field: "tunnel depth",
                value: MAX_TUNNELS.saturating_add(1) as u32,
                offset: off,
            });
        }
        let rest = data.get(h.len..).unwrap_or_default();
        self.decode_next(h.next, rest, off.saturating_add(h.len))
    }

    /// Decodes what a tunnel header said follows it.
    pub(super) fn decode_next(
        &mut self,
        next: Next,
        data: &'a [u8],
        off: usize,
    ) -> Result<(), DecodeError> {
        self.net = None;
        self.transport = None;
        self.payload = data;
        match next {
            Next::Ethernet => {
                let (eth, rest) = EthernetView::parse(data).map_err(|e| e.add_offset(off))?;
                self.payload = rest;
                let et = eth.ethertype();
                let at = off.saturating_add(ethernet::HEADER_LEN);
                if et <= ethernet::MAX_8023_LEN {
                    return self.decode_llc(et, rest, at);
                }
                self.decode_ethertype(Layer::Ethernet, et, rest, at)
            }
            Next::Ipv4 => self.decode_ipv4(data, off),
            Next::Ipv6 => self.decode_ipv6(data, off),
            Next::Ip => match data.first().map(|b| b >> 4) {
                Some(6) => self.decode_ipv6(data, off),
                _ => self.decode_ipv4(data, off),
            },
            Next::Ethertype(et) => self.decode_ethertype(Layer::Gre, et, data, off),
            Next::Wlan => self.decode_wlan(data, off),
            Next::Nsh => {
                let h = tunnel::nsh(data, off)?;
                self.enter(h, data, off)
            }
            Next::Mpls => self.decode_mpls(data, off),
            Next::Ppp => {
                let (proto, len) = tunnel::ppp(data, off)?;
                let rest = data.get(len..).unwrap_or_default();
                self.payload = rest;
                self.decode_ppp_proto(proto, rest, off.saturating_add(len))
            }
            Next::Opaque => Ok(()),
        }
    }

    /// An MPLS label stack at `off`: one tunnel layer per label, then IP or a pseudowire.
    pub(super) fn decode_mpls(
        &mut self,
        mut data: &'a [u8],
        mut off: usize,
    ) -> Result<(), DecodeError> {
        loop {
            let (label, bottom) = tunnel::mpls_entry(data, off)?;
            let t = Tunnel::new(TunnelKind::Mpls, Some(label), off, &[]);
            if self.tunnels.try_push(t).is_err() {
                return Err(DecodeError::Malformed {
                    layer: Layer::Tunnel,
                    field: "tunnel depth",
                    value: MAX_TUNNELS.saturating_add(1) as u32,
                    offset: off,
                });
            }
            data = data.get(4..).unwrap_or_default();
            off = off.saturating_add(4);
            self.payload = data;
            if bottom {
                break;
            }
        }
        let (next, skip) = tunnel::mpls_payload(data, off)?;
        let rest = data.get(skip..).unwrap_or_default();
        self.decode_next(next, rest, off.saturating_add(skip))
    }

    /// A PPP protocol number (PPP link, PPTP GRE).
    pub(super) fn decode_ppp_proto(
        &mut self,
        proto: u16,
        data: &'a [u8],
        off: usize,
    ) -> Result<(), DecodeError> {
        match proto {
            ppp_proto::IPV4 => self.decode_ipv4(data, off),
            ppp_proto::IPV6 => self.decode_ipv6(data, off),
            tunnel::ppp_proto::MPLS | tunnel::ppp_proto::MPLS_MULTICAST => {
                self.decode_mpls(data, off)
            }
            other => Err(DecodeError::Unsupported {
                layer: Layer::Ppp,
                value: u32::from(other),
            }),
        }
    }
}
