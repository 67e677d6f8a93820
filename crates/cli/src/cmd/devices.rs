//! `devices`: the libpcap version, then every interface with its addresses; `*` marks the
//! default one, as node_pcap's simple_capture printed them.

use std::io::Write;

use pcap_capture::live::{self, Device};

use crate::args::DevicesArgs;
use crate::color::{Color, Palette};
use crate::error::CliError;
use crate::render::json::Obj;

/// Runs `devices`.
pub fn run(args: &DevicesArgs) -> Result<(), CliError> {
    let devices = live::devices()?;
    let default = live::default_device()?.map(|d| d.name);
    let version = live::lib_version();
    let mut out = std::io::stdout().lock();
    if args.output.json {
        let mut buf = Vec::new();
        for d in &devices {
            write_json(
                &mut buf,
                d,
                default.as_deref() == Some(d.name.as_str()),
                &version,
            );
        }
        out.write_all(&buf)?;
    } else {
        let palette = Palette::new(&args.output);
        writeln!(out, "{version}")?;
        for d in &devices {
            let mark = if default.as_deref() == Some(d.name.as_str()) {
                '*'
            } else {
                ' '
            };
            write!(out, "{mark} {}", palette.paint(Color::Bold, &d.name))?;
            let mut flags = Vec::new();
            if d.loopback {
                flags.push("loopback");
            }
            if d.up {
                flags.push("up");
            }
            if d.running {
                flags.push("running");
            }
            if !flags.is_empty() {
                write!(out, " [{}]", flags.join(", "))?;
            }
            if let Some(desc) = &d.description {
                write!(out, " ({desc})")?;
            }
            writeln!(out)?;
            for a in &d.addresses {
                write!(out, "    {}", palette.paint(Color::Cyan, a.addr))?;
                if let Some(mask) = a.netmask {
                    write!(out, " netmask {mask}")?;
                }
                if let Some(b) = a.broadcast {
                    write!(out, " broadcast {b}")?;
                }
                if let Some(p) = a.destination {
                    write!(out, " peer {p}")?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

fn write_json(out: &mut Vec<u8>, d: &Device, is_default: bool, version: &str) {
    let mut o = Obj::new(out);
    o.str("name", &d.name);
    o.bool("default", is_default);
    if let Some(desc) = &d.description {
        o.str("description", desc);
    }
    o.bool("loopback", d.loopback);
    o.bool("up", d.up);
    o.bool("running", d.running);
    let mut addrs = o.arr("addresses");
    for a in &d.addresses {
        let mut ao = addrs.obj();
        ao.display("addr", a.addr);
        if let Some(mask) = a.netmask {
            ao.display("netmask", mask);
        }
        if let Some(b) = a.broadcast {
            ao.display("broadcast", b);
        }
        ao.end();
    }
    addrs.end();
    o.str("libpcap", version);
    o.end();
    out.push(b'\n');
}
