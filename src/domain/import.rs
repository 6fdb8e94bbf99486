//! Organisation import files: recognising the format, validating every row,
//! and deciding per row whether it inserts, updates or changes nothing.
//!
//! Two formats are accepted (see `docs/import.md`):
//! - CBS municipalities: `cbs_code,name,province,population,lat,lon,year`
//! - general: `code,kind,name,province,size,lat,lon,email,language`
//!
//! The CBS format carries no contact details, so importing it never touches
//! an organisation's contact email or language.

use std::collections::HashMap;

use super::organisation::{
    parse_name, parse_province, parse_size, ContactEmail, Coordinates, Language, OrganisationCode,
    OrganisationKind,
};
use super::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Cbs,
    General,
}

impl FileFormat {
    pub const CBS_COLUMNS: [&'static str; 7] = [
        "cbs_code",
        "name",
        "province",
        "population",
        "lat",
        "lon",
        "year",
    ];
    pub const GENERAL_COLUMNS: [&'static str; 9] = [
        "code", "kind", "name", "province", "size", "lat", "lon", "email", "language",
    ];

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            FileFormat::Cbs => &Self::CBS_COLUMNS,
            FileFormat::General => &Self::GENERAL_COLUMNS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Cbs => "CBS municipalities",
            FileFormat::General => "general",
        }
    }
}

/// The directory fields every import format carries.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationFields {
    pub code: OrganisationCode,
    pub kind: OrganisationKind,
    pub name: String,
    pub province: Option<&'static str>,
    pub size: i64,
    pub coordinates: Coordinates,
}

/// Contact fields, present only in the general format.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactFields {
    pub email: Option<ContactEmail>,
    pub language: Language,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 1-based line number in the file, for messages.
    pub line: u64,
    pub fields: OrganisationFields,
    pub contact: Option<ContactFields>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug)]
pub struct ParsedFile {
    pub format: FileFormat,
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
}

/// Parses and validates a whole file. A file-level problem (no header,
/// unknown format, missing column) is an `Err`; row problems are collected
/// in `errors` so that every bad row is reported at once.
pub fn parse(bytes: &[u8]) -> Result<ParsedFile, Invalid> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| Invalid::new(format!("cannot read the header line: {e}")))?
        .clone();
    let header: Vec<String> = header
        .iter()
        .map(|h| {
            std::str::from_utf8(h)
                .map(|s| s.trim().to_ascii_lowercase())
                .map_err(|_| {
                    Invalid::new("line 1: the header is not valid UTF-8; save the file as UTF-8")
                })
        })
        .collect::<Result<_, _>>()?;
    if header.iter().all(|h| h.is_empty()) {
        return Err(Invalid::new("the file is empty; expected a header line"));
    }
    let format = if header.iter().any(|h| h == "cbs_code") {
        FileFormat::Cbs
    } else if header.iter().any(|h| h == "code") {
        FileFormat::General
    } else {
        return Err(Invalid::new(format!(
            "unknown file format: the header must be either '{}' (CBS) or '{}' (general)",
            FileFormat::CBS_COLUMNS.join(","),
            FileFormat::GENERAL_COLUMNS.join(",")
        )));
    };
    let mut index = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if index.insert(h.as_str(), i).is_some() {
            return Err(Invalid::new(format!("line 1: column '{h}' appears twice")));
        }
    }
    let missing: Vec<&str> = format
        .columns()
        .iter()
        .copied()
        .filter(|c| !index.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(Invalid::new(format!(
            "line 1: missing column{} {} for the {} format (expected {})",
            if missing.len() > 1 { "s" } else { "" },
            missing
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", "),
            format.name(),
            format.columns().join(",")
        )));
    }

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut first_seen: HashMap<OrganisationCode, u64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let lines = Lines::of(bytes);
    loop {
        let line = lines.at(reader.position().byte());
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.push(RowError {
                    line,
                    message: format!("cannot read this line: {e}"),
                });
                break;
            }
        }
        let line = record.position().map_or(line, |p| lines.at(p.byte()));
        if record.len() != header.len() {
            errors.push(RowError {
                line,
                message: format!(
                    "expected {} fields like the header, found {}",
                    header.len(),
                    record.len()
                ),
            });
            continue;
        }
        let fields = Fields {
            record: &record,
            index: &index,
        };
        let parsed = match format {
            FileFormat::Cbs => parse_cbs_row(&fields),
            FileFormat::General => parse_general_row(&fields),
        };
        match parsed {
            Ok((fields, contact)) => {
                if let Some(first) = first_seen.get(&fields.code) {
                    errors.push(RowError {
                        line,
                        message: format!(
                            "duplicate code {}: it already appears on line {first}",
                            fields.code.as_str()
                        ),
                    });
                    continue;
                }
                first_seen.insert(fields.code.clone(), line);
                rows.push(ImportRow {
                    line,
                    fields,
                    contact,
                });
            }
            Err(e) => errors.push(RowError {
                line,
                message: e.message,
            }),
        }
    }
    Ok(ParsedFile {
        format,
        rows,
        errors,
    })
}

/// Line numbers as a text editor shows them, counted from the bytes: the
/// csv reader's own count is one short after every CRLF line end, which
/// is what Excel and browser uploads produce. A line ends at LF, at CRLF,
/// or at a CR alone.
struct Lines<'a> {
    bytes: &'a [u8],
    /// Byte offsets at which a new line starts (after its line end).
    starts: Vec<u64>,
}

impl<'a> Lines<'a> {
    fn of(bytes: &'a [u8]) -> Lines<'a> {
        let mut starts = Vec::new();
        for (i, &b) in bytes.iter().enumerate() {
            let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends_line {
                starts.push(i as u64 + 1);
            }
        }
        Lines { bytes, starts }
    }

    /// The 1-based line of the record that starts at `offset`. (The csv
    /// reader may give the offset of the line end before it, the LF of a
    /// CRLF: a record never starts with a line end, so those are skipped.)
    fn at(&self, offset: u64) -> u64 {
        let mut offset = offset;
        while matches!(self.bytes.get(offset as usize), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        self.starts.partition_point(|&start| start <= offset) as u64 + 1
    }
}

type Row = (OrganisationFields, Option<ContactFields>);

/// One record's fields by column name.
struct Fields<'r> {
    record: &'r csv::ByteRecord,
    index: &'r HashMap<&'r str, usize>,
}

impl<'r> Fields<'r> {
    fn get(&self, col: &str) -> Result<&'r str, Invalid> {
        let raw = &self.record[self.index[col]];
        std::str::from_utf8(raw).map_err(|_| {
            Invalid::new(format!(
                "column '{col}' is not valid UTF-8; save the file as UTF-8"
            ))
        })
    }
}

fn parse_cbs_row(f: &Fields<'_>) -> Result<Row, Invalid> {
    let get = |col| f.get(col);
    let kind = OrganisationKind::Municipality;
    let code = OrganisationCode::parse(get("cbs_code")?, kind)?;
    let name = parse_name(get("name")?)?;
    let province = Some(parse_province(get("province")?)?);
    let size = parse_size(get("population")?).map_err(|_| {
        Invalid::new(format!(
            "population '{}' must be a whole number",
            get("population").unwrap_or_default()
        ))
    })?;
    let coordinates = parse_coordinates(get("lat")?, get("lon")?)?;
    let year = get("year")?;
    if !year.is_empty() && !matches!(year.parse::<i32>(), Ok(1800..=2200)) {
        return Err(Invalid::new(format!("year '{year}' is not a year")));
    }
    Ok((
        OrganisationFields {
            code,
            kind,
            name,
            province,
            size,
            coordinates,
        },
        None,
    ))
}

fn parse_general_row(f: &Fields<'_>) -> Result<Row, Invalid> {
    let get = |col| f.get(col);
    let kind: OrganisationKind = get("kind")?.parse()?;
    let code = OrganisationCode::parse(get("code")?, kind)?;
    let name = parse_name(get("name")?)?;
    let province = match get("province")? {
        "" if kind == OrganisationKind::Municipality => {
            return Err(Invalid::new("province is required for a municipality"))
        }
        "" => None,
        p => Some(parse_province(p)?),
    };
    let size = parse_size(get("size")?)?;
    let coordinates = parse_coordinates(get("lat")?, get("lon")?)?;
    let email = match get("email")? {
        "" => None,
        e => Some(ContactEmail::parse(e)?),
    };
    let language = match get("language")? {
        "" => Language::default(),
        l => l.parse()?,
    };
    Ok((
        OrganisationFields {
            code,
            kind,
            name,
            province,
            size,
            coordinates,
        },
        Some(ContactFields { email, language }),
    ))
}

fn parse_coordinates(lat: &str, lon: &str) -> Result<Coordinates, Invalid> {
    let number = |name: &str, raw: &str| {
        raw.parse::<f64>().map_err(|_| {
            Invalid::new(format!(
                "{name} '{raw}' is not a number (use a decimal point)"
            ))
        })
    };
    let (latitude, longitude) = (number("latitude", lat)?, number("longitude", lon)?);
    if latitude == 0.0 && longitude == 0.0 {
        return Err(Invalid::new(
            "coordinates 0,0 look like missing values; give the real position",
        ));
    }
    Coordinates::new(latitude, longitude)
}

/// The part of an organisation an import can set, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub kind: OrganisationKind,
    pub name: String,
    pub province: Option<String>,
    pub size: i64,
    pub latitude: f64,
    pub longitude: f64,
    pub contact_email: Option<String>,
    pub language: Language,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Insert,
    Update,
    Unchanged,
}

/// Decides what importing `row` does to the organisation stored under its
/// code, and what it should hold afterwards. Rows without contact fields (CBS
/// format) keep the stored contact email and language.
pub fn plan(stored: Option<&Stored>, row: &ImportRow) -> (Change, Stored) {
    let f = &row.fields;
    let (contact_email, language) = match (&row.contact, stored) {
        (Some(c), _) => (c.email.as_ref().map(|e| e.as_str().to_string()), c.language),
        (None, Some(s)) => (s.contact_email.clone(), s.language),
        (None, None) => (None, Language::default()),
    };
    let desired = Stored {
        kind: f.kind,
        name: f.name.clone(),
        province: f.province.map(str::to_string),
        size: f.size,
        latitude: f.coordinates.latitude,
        longitude: f.coordinates.longitude,
        contact_email,
        language,
    };
    let change = match stored {
        None => Change::Insert,
        Some(s) if *s == desired => Change::Unchanged,
        Some(_) => Change::Update,
    };
    (change, desired)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CBS: &str = "cbs_code,name,province,population,lat,lon,year\n\
        GM0363,Amsterdam,Noord-Holland,931298,52.37,4.89,2024\n\
        GM0820,\"Nuenen, Gerwen en Nederwetten\",Noord-Brabant,24231,51.4785,5.54941,2024\n";

    #[test]
    fn reads_the_cbs_format() {
        let parsed = parse(CBS.as_bytes()).unwrap();
        assert_eq!(parsed.format, FileFormat::Cbs);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[1].fields.name, "Nuenen, Gerwen en Nederwetten");
        assert_eq!(parsed.rows[1].line, 3);
        assert!(parsed.rows[0].contact.is_none());
    }

    #[test]
    fn reads_the_general_format_with_a_bom() {
        let file = "\u{feff}code,kind,name,province,size,lat,lon,email,language\n\
            ymere,housing_corporation,Ymere,Noord-Holland,80000,52.37,4.9,info@ymere.nl,en\n\
            VNG,other,VNG,,500,52.08,4.31,,\n";
        let parsed = parse(file.as_bytes()).unwrap();
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let row = &parsed.rows[0];
        assert_eq!(row.fields.code.as_str(), "YMERE");
        assert_eq!(row.contact.as_ref().unwrap().language, Language::En);
        assert_eq!(parsed.rows[1].fields.province, None);
    }

    #[test]
    fn reports_every_bad_row_with_its_line() {
        let file = "cbs_code,name,province,population,lat,lon,year\n\
            GM0363,Amsterdam,Noord-Holland,931298,52.37,4.89,2024\n\
            XX0001,Bad code,Utrecht,10,52,5,2024\n\
            GM0002,Far away,Utrecht,10,95,5,2024\n\
            GM0363,Amsterdam again,Noord-Holland,1,52.37,4.89,2024\n\
            GM0004,Short,Utrecht\n";
        let parsed = parse(file.as_bytes()).unwrap();
        let lines: Vec<u64> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6]);
        assert!(parsed.errors[0].message.contains("CBS municipality code"));
        assert!(parsed.errors[1].message.contains("latitude"));
        assert!(parsed.errors[2].message.contains("line 2"));
        assert_eq!(parsed.rows.len(), 1);
    }

    /// The same file with LF, CRLF (Excel, browser uploads), CRLF and a
    /// byte order mark, and a quoted field running over two lines: a bad
    /// row is named on the line a text editor shows it on.
    #[test]
    fn line_numbers_are_right_whatever_the_line_ends() {
        let lf = "cbs_code,name,province,population,lat,lon,year\n\
            GM0363,Amsterdam,Noord-Holland,931298,52.37,4.89,2024\n\
            XX0001,Bad code,Utrecht,10,52,5,2024\n\
            GM0363,Amsterdam again,Noord-Holland,1,52.37,4.89,2024\n";
        let crlf = lf.replace('\n', "\r\n");
        let bom = format!("\u{feff}{crlf}");
        for file in [lf.to_string(), crlf, bom] {
            let parsed = parse(file.as_bytes()).unwrap();
            let lines: Vec<u64> = parsed.errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, [3, 4], "{file:?}");
            assert!(
                parsed.errors[1]
                    .message
                    .contains("already appears on line 2"),
                "{}",
                parsed.errors[1].message
            );
        }
        // A quoted name over two lines (refused: names hold no line
        // breaks) is named on the line it starts on; the next row starts on
        // line 4.
        let quoted = "cbs_code,name,province,population,lat,lon,year\r\n\
            GM0363,\"Amster\r\ndam\",Noord-Holland,931298,52.37,4.89,2024\r\n\
            XX0001,Bad code,Utrecht,10,52,5,2024\r\n\
            GM0344,Utrecht,Utrecht,374238,52.09,5.07,2024\r\n";
        let parsed = parse(quoted.as_bytes()).unwrap();
        let lines: Vec<u64> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 4], "{:?}", parsed.errors);
        assert_eq!(parsed.rows[0].line, 5);
    }

    #[test]
    fn a_missing_column_is_a_file_error() {
        let err = parse(b"cbs_code,name,province,lat,lon,year\n").unwrap_err();
        assert!(err.message.contains("'population'"), "{err}");
    }

    #[test]
    fn latin1_is_reported_as_an_encoding_error() {
        let mut file = b"cbs_code,name,province,population,lat,lon,year\n".to_vec();
        file.extend_from_slice(b"GM1900,S\xfadwest-Frysl\xe2n,Frysl\xe2n,90000,53.0,5.6,2024\n");
        let parsed = parse(&file).unwrap();
        assert_eq!(parsed.errors.len(), 1);
        assert!(parsed.errors[0].message.contains("UTF-8"));
        assert_eq!(parsed.errors[0].line, 2);
    }

    #[test]
    fn unknown_header_is_rejected() {
        assert!(parse(b"foo,bar\n1,2\n")
            .unwrap_err()
            .message
            .contains("unknown file format"));
        assert!(parse(b"").is_err());
    }

    #[test]
    fn cbs_rows_keep_the_stored_contact_details() {
        let parsed = parse(CBS.as_bytes()).unwrap();
        let row = &parsed.rows[0];
        let mut stored = Stored {
            kind: OrganisationKind::Municipality,
            name: "Amsterdam".into(),
            province: Some("Noord-Holland".into()),
            size: 931298,
            latitude: 52.37,
            longitude: 4.89,
            contact_email: Some("someone@amsterdam.nl".into()),
            language: Language::En,
        };
        let (change, new) = plan(None, row);
        assert_eq!(change, Change::Insert);
        assert_eq!((new.contact_email, new.language), (None, Language::Nl));
        assert_eq!(plan(Some(&stored), row).0, Change::Unchanged);
        stored.size += 1;
        let (change, new) = plan(Some(&stored), row);
        assert_eq!(change, Change::Update);
        assert_eq!(new.size, 931298);
        assert_eq!(new.contact_email.as_deref(), Some("someone@amsterdam.nl"));
        assert_eq!(new.language, Language::En);
    }
}
