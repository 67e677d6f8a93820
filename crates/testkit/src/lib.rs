//! Test support shared by the workspace's crates.
//!
//! The real captures with tshark-derived truth live outside the repository, in
//! `../shared/corpus` beside the checkout (see its README). Tests that read it call
//! [`corpus`]: when the corpus is absent they print a loud `SKIPPED` line and do nothing,
//! unless `PCAP_REQUIRE_CORPUS` is set (as `.ci/run` does when the corpus exists), in which
//! case a missing corpus fails the test instead of passing silently.
#![allow(clippy::panic, clippy::expect_used)]

pub mod adversarial;
pub mod bench_h2;
pub mod frames;
pub mod h2c;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Environment variable that overrides where the corpus is looked for.
pub const CORPUS_ENV: &str = "PCAP_CORPUS";
/// Environment variable that overrides where the TLS/HTTP/2 corpus is looked for.
pub const CORPUS_TLS_ENV: &str = "PCAP_CORPUS_TLS";
/// Environment variable that overrides where the tunnels and link-types corpus is looked for.
pub const CORPUS_TUNNELS_ENV: &str = "PCAP_CORPUS_TUNNELS";
/// Environment variable that turns a missing corpus into a test failure.
pub const REQUIRE_ENV: &str = "PCAP_REQUIRE_CORPUS";

/// A classic pcap file (Ethernet, snaplen 65535) of `frames`, each with its capture time in
/// nanoseconds: what tests that build their own packets write or read back.
pub fn ethernet_pcap<'a>(frames: impl IntoIterator<Item = (i64, &'a [u8])>) -> Vec<u8> {
    use pcap_capture::{LinkType, Packet, PcapWriter};
    let mut writer =
        PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).expect("pcap header to memory");
    for (ts_ns, data) in frames {
        let len = u32::try_from(data.len()).expect("frame under 4 GiB");
        writer
            .write_packet(&Packet {
                ts_ns,
                caplen: len,
                orig_len: len,
                link_type: LinkType::ETHERNET,
                interface: 0,
                fcs_len: 0,
                data,
            })
            .expect("pcap record to memory");
    }
    writer.into_inner().expect("pcap to memory")
}

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// A file under the workspace's `tests/data/`.
pub fn test_data(name: &str) -> PathBuf {
    workspace_root().join("tests/data").join(name)
}

/// The shared corpus, if present.
#[derive(Debug, Clone)]
pub struct Corpus {
    root: PathBuf,
}

/// Locates the corpus for the test named `test`.
///
/// Returns `None` (after printing a `SKIPPED` line to stderr) when the corpus is absent and
/// not required; panics when it is absent and `PCAP_REQUIRE_CORPUS` is set.
pub fn corpus(test: &str) -> Option<Corpus> {
    locate(test, CORPUS_ENV, "corpus")
}

/// Locates the TLS, HTTP/2 and gRPC corpus (`../shared/corpus-tls`, with key logs under
/// `keys/`) for the test named `test`, as [`corpus`] does the main one.
pub fn corpus_tls(test: &str) -> Option<Corpus> {
    locate(test, CORPUS_TLS_ENV, "corpus-tls")
}

/// Locates the tunnels and unusual link types corpus (`../shared/corpus-tunnels`) for the
/// test named `test`, as [`corpus`] does the main one.
pub fn corpus_tunnels(test: &str) -> Option<Corpus> {
    locate(test, CORPUS_TUNNELS_ENV, "corpus-tunnels")
}

fn locate(test: &str, env: &str, dir: &str) -> Option<Corpus> {
    let root = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared").join(dir));
    if root.join("captures").is_dir() {
        return Some(Corpus { root });
    }
    if std::env::var_os(REQUIRE_ENV).is_some() {
        panic!(
            "{test}: {dir} required ({REQUIRE_ENV} is set) but not found at {}",
            root.display()
        );
    }
    eprintln!(
        "SKIPPED {test}: {dir} not found at {} (set {env} to point at it)",
        root.display()
    );
    None
}

impl Corpus {
    /// The corpus root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every capture file name under `captures/`, sorted.
    pub fn captures(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.root.join("captures"))
            .expect("captures directory is readable")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Path of the capture file `name`.
    pub fn capture_path(&self, name: &str) -> PathBuf {
        self.root.join("captures").join(name)
    }

    /// Path of an oracle file (`packets.tsv`, `capinfos.txt`, ...) for capture `name`.
    pub fn oracle_path(&self, name: &str, file: &str) -> PathBuf {
        self.root.join("oracle").join(name).join(file)
    }

    /// Path of the TLS key log of capture `name` (`keys/NAME.keys` in the TLS corpus), if any.
    pub fn keys_path(&self, name: &str) -> Option<PathBuf> {
        let path = self.root.join("keys").join(format!("{name}.keys"));
        path.is_file().then_some(path)
    }

    /// Loads an oracle TSV; `None` when the oracle has no such file (it has no data rows).
    pub fn oracle_tsv(&self, name: &str, file: &str) -> Option<Tsv> {
        let path = self.oracle_path(name, file);
        path.exists().then(|| Tsv::load(&path))
    }

    /// Rows of `MANIFEST.tsv`, keyed by capture name.
    pub fn manifest(&self) -> HashMap<String, Row> {
        let tsv = Tsv::load(&self.root.join("MANIFEST.tsv"));
        tsv.rows()
            .map(|r| (r.get("name").to_owned(), r.to_owned_row()))
            .collect()
    }

    /// Extra tshark arguments per capture from `decode_as.tsv` (decode-as ports, reassembly prefs).
    pub fn decode_as(&self) -> HashMap<String, String> {
        let text = fs::read_to_string(self.root.join("decode_as.tsv")).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

/// A tab-separated file with a header row, as the oracles are written.
#[derive(Debug, Clone)]
pub struct Tsv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Tsv {
    /// Reads and splits a TSV file; panics with the path when it cannot be read.
    pub fn load(path: &Path) -> Tsv {
        let text = fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        Tsv::parse(&text)
    }

    /// Splits TSV text: the first line is the header.
    pub fn parse(text: &str) -> Tsv {
        let mut lines = text.lines();
        let header = lines
            .next()
            .unwrap_or_default()
            .split('\t')
            .map(str::to_owned)
            .collect();
        let rows = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect();
        Tsv { header, rows }
    }

    /// The column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Iterates over the data rows.
    pub fn rows(&self) -> impl Iterator<Item = RowRef<'_>> {
        self.rows
            .iter()
            .map(move |cells| RowRef { tsv: self, cells })
    }

    fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("oracle has no column {name:?}; columns: {:?}", self.header))
    }
}

/// A borrowed row of a [`Tsv`].
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    tsv: &'a Tsv,
    cells: &'a [String],
}

impl<'a> RowRef<'a> {
    /// The cell in column `name` (empty string when the row is short); panics on an unknown column.
    pub fn get(&self, name: &str) -> &'a str {
        let i = self.tsv.column(name);
        self.cells.get(i).map(String::as_str).unwrap_or("")
    }

    fn to_owned_row(self) -> Row {
        Row(self
            .tsv
            .header
            .iter()
            .cloned()
            .zip(self.cells.iter().cloned())
            .collect())
    }
}

/// An owned row, keyed by column name.
#[derive(Debug, Clone)]
pub struct Row(HashMap<String, String>);

impl Row {
    /// The cell in column `name`, empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_reads_header_and_cells() {
        let t = Tsv::parse("a\tb\tc\n1\t\t3\n4\t5\n");
        let rows: Vec<_> = t.rows().collect();
        assert_eq!(t.len(), 2);
        assert_eq!(rows[0].get("a"), "1");
        assert_eq!(rows[0].get("b"), "");
        assert_eq!(rows[0].get("c"), "3");
        assert_eq!(rows[1].get("c"), "");
    }
}
