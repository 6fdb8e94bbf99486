//! Importing organisations: the real CBS list and broken files.

use std::collections::BTreeMap;

use meeloop::domain::import::FileFormat;

use crate::backend_tests;
use crate::helpers::{municipalities_csv, spawn_app, Backend};

backend_tests!(
    imports_all_342_municipalities_and_reimports_unchanged,
    a_changed_row_updates_only_that_row_and_keeps_contact_details,
    broken_files_import_nothing_and_say_where,
    skip_invalid_imports_the_valid_rows,
    concurrent_imports_do_not_duplicate,
);

fn cbs_file() -> Vec<u8> {
    std::fs::read(municipalities_csv()).expect("tests/data/nl_municipalities.csv")
}

/// Per-province counts read straight from the file, independently of the importer.
fn expected_per_province(file: &[u8]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mut reader = csv::Reader::from_reader(file);
    for record in reader.records() {
        *counts.entry(record.unwrap()[2].to_string()).or_default() += 1;
    }
    counts
}

async fn imports_all_342_municipalities_and_reimports_unchanged(backend: Backend) {
    let app = spawn_app(backend).await;
    let file = cbs_file();
    let report = app.import(&file, false);
    assert!(report.applied);
    assert_eq!(report.format, FileFormat::Cbs);
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (342, 0, 0)
    );
    assert!(report.invalid.is_empty());

    let all = app
        .all_pages("/api/v1/organisations?kind=municipality")
        .await;
    assert_eq!(all.len(), 342);
    let inhabitants: i64 = all.iter().map(|o| o["size"].as_i64().unwrap()).sum();
    assert_eq!(inhabitants, 17_942_942, "the CBS national total");

    let expected = expected_per_province(&file);
    assert_eq!(expected.len(), 12);
    for (province, count) in &expected {
        let listed = app
            .all_pages(&format!(
                "/api/v1/organisations?province={}",
                urlencode(province)
            ))
            .await;
        assert_eq!(listed.len(), *count, "{province}");
    }

    let (_, amsterdam) = app
        .get_json("/api/v1/organisations?q=amsterdam&kind=municipality")
        .await;
    assert_eq!(amsterdam["items"][0]["code"], "GM0363");
    assert_eq!(amsterdam["items"][0]["province"], "Noord-Holland");

    let again = app.import(&file, false);
    assert_eq!(
        (again.inserted, again.updated, again.unchanged),
        (0, 0, 342)
    );
    assert_eq!(app.all_pages("/api/v1/organisations").await.len(), 342);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn a_changed_row_updates_only_that_row_and_keeps_contact_details(backend: Backend) {
    let app = spawn_app(backend).await;
    let file = cbs_file();
    app.import(&file, false);
    // The municipality's own contact details, from a general-format file.
    let general = "code,kind,name,province,size,lat,lon,email,language\n\
        GM0363,municipality,Amsterdam,Noord-Holland,931298,52.36489,4.90872,meeloop@amsterdam.example,en\n";
    let report = app.import(general.as_bytes(), false);
    assert_eq!((report.inserted, report.updated), (0, 1));

    // A newer CBS list with a different population for Amsterdam only.
    let text = String::from_utf8(file).unwrap();
    let changed = text.replacen(
        "GM0363,Amsterdam,Noord-Holland,931298",
        "GM0363,Amsterdam,Noord-Holland,940000",
        1,
    );
    assert_ne!(text, changed, "the fixture still has Amsterdam at 931298");
    let report = app.import(changed.as_bytes(), false);
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (0, 1, 341)
    );

    let (_, page) = app
        .get_json("/api/v1/organisations?q=amsterdam&kind=municipality")
        .await;
    let amsterdam = &page["items"][0];
    assert_eq!(amsterdam["size"], 940000);
    assert_eq!(
        amsterdam["language"], "en",
        "the CBS import left the language alone"
    );
    let id = meeloop::domain::organisation::OrganisationId(amsterdam["id"].as_i64().unwrap());
    let stored = meeloop::db::organisations::find(&mut app.db.pool.get().unwrap(), id)
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.contact_email.as_deref(),
        Some("meeloop@amsterdam.example")
    );
    assert!(stored.updated_at > stored.created_at);
}

async fn broken_files_import_nothing_and_say_where(backend: Backend) {
    let app = spawn_app(backend).await;
    let header = "cbs_code,name,province,population,lat,lon,year\n";
    let good = "GM0363,Amsterdam,Noord-Holland,931298,52.36489,4.90872,2024\n";

    // A missing column is a file error naming the column.
    let missing = format!(
        "cbs_code,name,province,lat,lon,year\n{}",
        "GM0363,Amsterdam,Noord-Holland,52.3,4.9,2024\n"
    );
    let err = meeloop::service::import::import_organisations(
        &mut app.db.pool.get().unwrap(),
        missing.as_bytes(),
        false,
        &mut (),
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("'population'"), "{err}");

    let cases: Vec<(Vec<u8>, u64, &str)> = vec![
        (
            format!("{header}{good}GM12,Bad code,Utrecht,10,52.1,5.1,2024\n").into_bytes(),
            3,
            "CBS municipality code",
        ),
        (
            format!("{header}{good}GM0344,Utrecht,Utrecht,361924,152.09,5.12,2024\n").into_bytes(),
            3,
            "latitude",
        ),
        (
            format!("{header}{good}{good}").into_bytes(),
            3,
            "duplicate code GM0363",
        ),
        (
            [
                header.as_bytes(),
                good.as_bytes(),
                b"GM1900,S\xfadwest-Frysl\xe2n,Frysl\xe2n,90421,53.02,5.55,2024\n",
            ]
            .concat(),
            3,
            "UTF-8",
        ),
    ];
    for (file, line, mentions) in cases {
        let report = app.import(&file, false);
        assert!(!report.applied);
        assert_eq!(report.invalid.len(), 1, "{:?}", report.invalid);
        assert_eq!(report.invalid[0].line, line);
        assert!(
            report.invalid[0].message.contains(mentions),
            "{}",
            report.invalid[0]
        );
        assert!(
            app.all_pages("/api/v1/organisations").await.is_empty(),
            "nothing imported when any row is bad"
        );
    }
}

async fn skip_invalid_imports_the_valid_rows(backend: Backend) {
    let app = spawn_app(backend).await;
    let file = "code,kind,name,province,size,lat,lon,email,language\n\
        YMERE,housing_corporation,Ymere,Noord-Holland,77000,52.37,4.90,info@ymere.example,nl\n\
        BAD,castle,Castle,Utrecht,1,52.0,5.0,,nl\n\
        PV26,province,Provincie Utrecht,Utrecht,1390000,52.09,5.10,not-an-email,nl\n";
    let report = app.import(file.as_bytes(), true);
    assert!(report.applied);
    assert_eq!(report.inserted, 1);
    let lines: Vec<u64> = report.invalid.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4]);
    let listed = app.all_pages("/api/v1/organisations").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["code"], "YMERE");
}

async fn concurrent_imports_do_not_duplicate(backend: Backend) {
    let app = spawn_app(backend).await;
    let file = cbs_file();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let pool = app.db.pool.clone();
            let file = file.clone();
            std::thread::spawn(move || {
                meeloop::service::import::import_organisations(
                    &mut pool.get().unwrap(),
                    &file,
                    false,
                    &mut (),
                    None,
                )
            })
        })
        .collect();
    let reports: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let reports: Vec<_> = reports.into_iter().map(|r| r.expect("import")).collect();
    // Imports are serialised: together they inserted each row exactly once,
    // and the counts each one reports are true.
    let inserted: usize = reports.iter().map(|r| r.inserted).sum();
    let unchanged: usize = reports.iter().map(|r| r.unchanged).sum();
    assert_eq!((inserted, unchanged), (342, 684));
    assert_eq!(app.all_pages("/api/v1/organisations").await.len(), 342);
}
