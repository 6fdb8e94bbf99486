//! Picking Dutch or English from `Accept-Language` (RFC 9110 §12.5.4).

use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::HttpRequest;

use crate::domain::organisation::Language;

/// The supported language the client prefers most; Dutch when it names
/// neither (or sends no header), as the service's default.
pub fn preferred(req: &HttpRequest) -> Language {
    req.headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse)
        .unwrap_or(Language::Nl)
}

fn parse(header: &str) -> Option<Language> {
    let mut best: Option<(f32, usize, Language)> = None;
    for (position, item) in header.split(',').enumerate() {
        let mut parts = item.split(';');
        let tag = parts.next()?.trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").map(str::to_string))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
            .unwrap_or(0.0);
        let primary = tag.split('-').next().unwrap_or_default();
        let lang = match primary {
            "nl" => Language::Nl,
            "en" => Language::En,
            _ => continue,
        };
        if q <= 0.0 {
            continue;
        }
        // Higher q wins; on equal q the earlier entry.
        if best.is_none_or(|(bq, _, _)| q > bq) {
            best = Some((q, position, lang));
        }
    }
    best.map(|(_, _, lang)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_preferred_supported_language() {
        assert_eq!(parse("en-GB,en;q=0.9,nl;q=0.8"), Some(Language::En));
        assert_eq!(parse("de-DE, nl;q=0.5, en;q=0.4"), Some(Language::Nl));
        assert_eq!(parse("fr"), None);
        assert_eq!(parse("en;q=0, nl;q=0.1"), Some(Language::Nl));
        assert_eq!(parse("nl-BE;q=0.7, en-US;q=0.9"), Some(Language::En));
        assert_eq!(parse("nl, en"), Some(Language::Nl));
    }
}
