//! Text tables sized to their contents, as tshark prints its statistics: all rows are known
//! when a table is written, so each column is as wide as its widest cell.
//!
//! Cells are text already escaped for the terminal (see `render::escape`); their width is
//! counted in characters.

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
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headings (units in the headings, e.g. `BYTES`, `P50 ms`).
    pub fn new(columns: &[(&'static str, Align)]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra ones are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Appends the table: the heading line, then one line per row; two spaces between
    /// columns and no trailing spaces.
    pub fn write(&self, out: &mut String) {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .map(|(h, _)| h.chars().count())
            .collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let headings: Vec<String> = self.columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        self.line(out, &widths, &headings);
        for row in &self.rows {
            self.line(out, &widths, row);
        }
    }

    fn line(&self, out: &mut String, widths: &[usize], cells: &[String]) {
        let start = out.len();
        for (i, ((_, align), width)) in self.columns.iter().zip(widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            let cell = cells.get(i).map_or("", String::as_str);
            let pad = width.saturating_sub(cell.chars().count());
            if *align == Align::Right {
                out.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(cell);
            if *align == Align::Left {
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let trimmed = out[start..].trim_end().len();
        out.truncate(start + trimmed);
        out.push('\n');
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
        t.row(vec!["a.example".into(), "7".into(), String::new()]);
        t.row(vec!["b".into(), "1234".into(), "é".into()]);
        let mut out = String::new();
        t.write(&mut out);
        assert_eq!(
            out,
            "HOST          N  X\n\
             a.example     7\n\
             b          1234  é\n"
        );
    }
}
