//! Text tables sized to their contents, as tshark prints its statistics: all rows are known
//! when a table is written, so each column is as wide as its widest cell.
//!
//! A table of 200,000 conversations must not cost a `String` per cell: every cell's text
//! goes into one buffer, with its end offset, and column widths are kept up to date as
//! cells come in. Cells are text already escaped for the terminal (see `render::escape`);
//! their width is counted in characters.

use std::fmt::{Display, Write as _};

use crate::error::CliError;
use crate::output::Output;

/// Where tables are written: standard output, written out in large pieces, or memory.
pub trait Lines {
    /// The buffer to append the next line to.
    fn buffer(&mut self) -> &mut Vec<u8>;
    /// Called after each line.
    fn line_done(&mut self) -> Result<(), CliError>;
}

impl Lines for Output {
    fn buffer(&mut self) -> &mut Vec<u8> {
        Output::buffer(self)
    }

    fn line_done(&mut self) -> Result<(), CliError> {
        self.packet_done()
    }
}

impl Lines for Vec<u8> {
    fn buffer(&mut self) -> &mut Vec<u8> {
        self
    }

    fn line_done(&mut self) -> Result<(), CliError> {
        Ok(())
    }
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: padded on the right.
    Left,
    /// Numbers: padded on the left.
    Right,
}

/// A table being filled.
#[derive(Debug)]
pub struct Table {
    columns: Vec<(&'static str, Align)>,
    widths: Vec<usize>,
    /// Every cell's text, one after the other.
    text: String,
    /// Where each cell ends in `text`, row after row, as many per row as columns.
    ends: Vec<usize>,
}

impl Table {
    /// A table with these column headings (units in the headings, e.g. `BYTES`, `P50 ms`).
    pub fn new(columns: &[(&'static str, Align)]) -> Table {
        Table {
            columns: columns.to_vec(),
            widths: columns.iter().map(|(h, _)| h.chars().count()).collect(),
            text: String::new(),
            ends: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra ones are dropped.
    pub fn row(&mut self, cells: &[&dyn Display]) {
        for (i, width) in self.widths.iter_mut().enumerate() {
            let start = self.text.len();
            if let Some(cell) = cells.get(i) {
                // Writing into a String cannot fail.
                let _ = write!(self.text, "{cell}");
            }
            let cell = self.text.get(start..).unwrap_or_default();
            *width = (*width).max(cell.chars().count());
            self.ends.push(self.text.len());
        }
    }

    /// Writes the table to `out`: the heading line, then one line per row; two spaces
    /// between columns and no trailing spaces. Written out as it goes, in large pieces.
    pub fn write(&self, out: &mut impl Lines) -> Result<(), CliError> {
        self.line(out.buffer(), self.columns.iter().map(|(h, _)| *h));
        let mut start = 0;
        for row in self.ends.chunks(self.columns.len().max(1)) {
            let cells = row.iter().map(|&end| {
                let cell = self.text.get(start..end).unwrap_or_default();
                start = end;
                cell
            });
            self.line(out.buffer(), cells);
            out.line_done()?;
        }
        Ok(())
    }

    fn line<'c>(&self, out: &mut Vec<u8>, cells: impl Iterator<Item = &'c str>) {
        let start = out.len();
        for (i, ((cell, (_, align)), width)) in
            cells.zip(&self.columns).zip(&self.widths).enumerate()
        {
            if i > 0 {
                out.extend_from_slice(b"  ");
            }
            let pad = width.saturating_sub(cell.chars().count());
            if *align == Align::Right {
                out.extend(std::iter::repeat_n(b' ', pad));
            }
            out.extend_from_slice(cell.as_bytes());
            if *align == Align::Left {
                out.extend(std::iter::repeat_n(b' ', pad));
            }
        }
        let trailing = out
            .get(start..)
            .map_or(0, |l| l.iter().rev().take_while(|b| **b == b' ').count());
        out.truncate(out.len() - trailing);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell() {
        let mut t = Table::new(&[
            ("HOST", Align::Left),
            ("N", Align::Right),
            ("X", Align::Left),
        ]);
        t.row(&[&"a.example", &7, &""]);
        t.row(&[&"b", &1234, &"é"]);
        t.row(&[&"c"]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HOST          N  X\n\
             a.example     7\n\
             b          1234  é\n\
             c\n"
        );
    }
}
