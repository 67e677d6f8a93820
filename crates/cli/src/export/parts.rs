//! Part files partitioned by hour, as Hive, Spark, Trino, DuckDB and DataFusion read them:
//! `OUTDIR/table=NAME/date=YYYY-MM-DD/hour=HH/part-RUN-N.parquet`.
//!
//! RUN is the run's start time and a random number, so two runs, or two sensors, writing
//! into one OUTDIR never pick the same name; files are created with `create_new`, so an
//! existing file is never overwritten even so. Rows are buffered per open part in a small
//! [`Batch`], written to the Parquet writer every [`BATCH_ROWS`] rows; the writer closes a
//! row group at [`ROW_GROUP_BYTES`] or [`ROW_GROUP_ROWS`]. At most [`OPEN_PARTS`] parts are
//! open per table: a row for yet another hour closes the part used least recently (a later
//! row for that hour starts a new part file). Memory is thus bounded per table whatever
//! the capture's length or disorder.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use super::columns::{Batch, Column, Kind, Row};
use crate::error::CliError;

/// Rows buffered before they go to the Parquet writer.
const BATCH_ROWS: usize = 8192;
/// A row group is closed once its encoded size reaches this.
const ROW_GROUP_BYTES: usize = 8 << 20;
/// ... or once it has this many rows.
const ROW_GROUP_ROWS: usize = 256 * 1024;
/// Parts open at once per table.
const OPEN_PARTS: usize = 3;
/// Nanoseconds in an hour.
const HOUR_NS: i64 = 3_600_000_000_000;

/// One table's part files.
pub(super) struct Table {
    name: &'static str,
    columns: &'static [Column],
    /// `OUTDIR/table=NAME`.
    root: PathBuf,
    /// The run's part of every file name.
    run: String,
    /// Open parts, the one used last at the end.
    open: Vec<Part>,
    /// The next file's number in this run.
    next: u64,
    /// Rows written, files created.
    rows: u64,
    files: u64,
}

struct Part {
    /// Hours since 1970 (UTC).
    hour: i64,
    path: PathBuf,
    batch: Batch,
    writer: ArrowWriter<File>,
}

impl Table {
    pub(super) fn new(
        outdir: &Path,
        name: &'static str,
        columns: &'static [Column],
        run: &str,
    ) -> Table {
        Table {
            name,
            columns,
            root: outdir.join(format!("table={name}")),
            run: run.to_owned(),
            open: Vec::new(),
            next: 0,
            rows: 0,
            files: 0,
        }
    }

    pub(super) fn name(&self) -> &'static str {
        self.name
    }

    /// Rows written so far, and part files created.
    pub(super) fn counts(&self) -> (u64, u64) {
        (self.rows, self.files)
    }

    /// Appends one row, written by `write`, to the part of `ts_ns`'s hour.
    pub(super) fn append(
        &mut self,
        ts_ns: i64,
        write: impl FnOnce(&mut Row<'_>),
    ) -> Result<(), CliError> {
        let hour = ts_ns.div_euclid(HOUR_NS);
        let at = match self.open.iter().position(|p| p.hour == hour) {
            Some(i) => i,
            None => {
                if self.open.len() >= OPEN_PARTS {
                    let oldest = self.open.remove(0);
                    oldest.close()?;
                }
                let part = self.create(hour)?;
                self.open.push(part);
                self.open.len() - 1
            }
        };
        let last = self.open.len() - 1;
        if at != last {
            let p = self.open.remove(at);
            self.open.push(p);
        }
        let Some(part) = self.open.last_mut() else {
            return Ok(());
        };
        let mut row = part.batch.row();
        write(&mut row);
        if !row.end() {
            return Err(CliError::Parquet {
                path: part.path.clone(),
                source: ParquetError::General(format!(
                    "internal error: a row does not match table {}'s columns",
                    self.name
                )),
            });
        }
        self.rows += 1;
        if part.batch.len() >= BATCH_ROWS {
            part.write_batch()?;
        }
        Ok(())
    }

    /// Creates the next part file for `hour`.
    fn create(&mut self, hour: i64) -> Result<Part, CliError> {
        let dir = self.root.join(hour_dir(hour));
        std::fs::create_dir_all(&dir).map_err(|source| CliError::Io {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(format!("part-{}-{:05}.parquet", self.run, self.next));
        self.next += 1;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| CliError::Io {
                path: path.clone(),
                source,
            })?;
        let mut props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("pcap-cli {}", env!("CARGO_PKG_VERSION")));
        // Dictionaries pay off for strings that repeat (addresses, methods, hosts), not for
        // times, sequence numbers and counts, which rarely do: interning them cost time.
        for &(name, kind) in self.columns {
            if matches!(kind, Kind::Ts | Kind::I32 | Kind::I64) {
                props = props.set_column_dictionary_enabled(ColumnPath::from(name), false);
            }
        }
        let props = props.build();
        let batch = Batch::new(self.columns);
        let writer = ArrowWriter::try_new(file, super::columns::schema(self.columns), Some(props))
            .map_err(|source| CliError::Parquet {
                path: path.clone(),
                source,
            })?;
        self.files += 1;
        Ok(Part {
            hour,
            path,
            batch,
            writer,
        })
    }

    /// Writes every open part out and closes it (footer included).
    pub(super) fn finish(&mut self) -> Result<(), CliError> {
        let mut first_error = None;
        for part in self.open.drain(..) {
            if let Err(e) = part.close() {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Part {
    fn fail(&self) -> impl Fn(ParquetError) -> CliError + '_ {
        |source| CliError::Parquet {
            path: self.path.clone(),
            source,
        }
    }

    /// Hands the buffered rows to the Parquet writer.
    fn write_batch(&mut self) -> Result<(), CliError> {
        let batch = self
            .batch
            .take()
            .map_err(|e| (self.fail())(ParquetError::from(e)))?;
        self.writer.write(&batch).map_err(self.fail())
    }

    fn close(mut self) -> Result<(), CliError> {
        if self.batch.len() > 0 {
            self.write_batch()?;
        }
        let path = self.path.clone();
        self.writer
            .close()
            .map(|_| ())
            .map_err(|source| CliError::Parquet { path, source })
    }
}

/// `date=YYYY-MM-DD/hour=HH` of an hour since 1970, UTC.
fn hour_dir(hour: i64) -> String {
    let ts = hour
        .checked_mul(3600)
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let t = ts.to_zoned(TimeZone::UTC);
    format!("date={}/hour={:02}", t.strftime("%Y-%m-%d"), t.hour())
}

/// A name for this run's files: its UTC start time and a random number
/// (`20261206T130000Z-1a2b3c4d`), so that runs sort by time and never collide.
pub(super) fn run_id() -> String {
    let now = Timestamp::now().to_zoned(TimeZone::UTC);
    let mut random = [0u8; 4];
    // Without randomness (no entropy source) the process id keeps sensors apart less well
    // but runs apart still: create_new refuses to overwrite anyway.
    if getrandom::fill(&mut random).is_err() {
        random = std::process::id().to_be_bytes();
    }
    format!(
        "{}-{:08x}",
        now.strftime("%Y%m%dT%H%M%SZ"),
        u32::from_be_bytes(random)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_directories() {
        // 2026-12-06 13:00:00 UTC is 1796562000 s.
        assert_eq!(hour_dir(1_796_562_000 / 3600), "date=2026-12-06/hour=13");
        assert_eq!(hour_dir(0), "date=1970-01-01/hour=00");
        assert_eq!(hour_dir(-1), "date=1969-12-31/hour=23");
    }
}
