//! Each component of the score on its own.

use super::*;

#[test]
fn maturity_rises_with_level_and_recency() {
    let d = day();
    assert!(maturity(5, Some(2025), d) > maturity(4, Some(2025), d));
    assert!(maturity(4, Some(2025), d) > maturity(4, Some(2015), d));
    assert_eq!(maturity(5, Some(2025), d), 1.0);
    // Twelve years ago: only the level counts, at three quarters.
    assert!((maturity(4, Some(2014), d) - 0.8 * 0.75).abs() < 1e-9);
    assert!(maturity(3, None, d) < maturity(3, Some(2026), d));
}

#[test]
fn mastery_is_level_first_then_recency_and_ratings() {
    // On the level scale: level 5, recent, best rated is the top.
    assert!((mastery(5, 1.0, 1.0) - 1.0).abs() < 1e-9);
    assert_eq!(mastery(1, 0.0, 0.0), 0.0);
    // A level is worth a level, recency a quarter, ratings one from worst to best.
    assert!((mastery(4, 0.5, 0.5) - mastery(3, 0.5, 0.5) - LEVEL).abs() < 1e-9);
    assert!((mastery(4, 1.0, 0.5) - mastery(4, 0.0, 0.5) - 0.25 * LEVEL).abs() < 1e-9);
    assert!((mastery(4, 0.5, 1.0) - mastery(4, 0.5, 0.0) - LEVEL).abs() < 1e-9);
    // A level ahead with ratings as good, however old the experience: more
    // than the half level of the best order's band.
    assert!(mastery(4, 0.0, 0.3) - mastery(3, 1.0, 0.3) > BEST_BAND);
    // Two levels ahead with the worst ratings against the best: still more.
    assert!(mastery(5, 0.0, 0.0) - mastery(3, 1.0, 1.0) > BEST_BAND);
    // Recency: full within two years, nothing after twelve, half when unknown.
    let d = day();
    assert_eq!(recency(Some(2025), d), 1.0);
    assert_eq!(recency(Some(2014), d), 0.0);
    assert!((recency(Some(2019), d) - 0.5).abs() < 1e-9);
    assert_eq!(recency(None, d), 0.5);
}

#[test]
fn quality_is_neutral_without_ratings_and_moves_with_them() {
    use crate::domain::lesson::{reputation, Rated, ReputationRules};
    let rules = ReputationRules::default();
    let rated = |n: usize, stars: u8| {
        let r = vec![
            Rated {
                rating: stars,
                hours_saved: 0,
                on: day()
            };
            n
        ];
        proven_quality(&reputation(&r, &rules, day()))
    };
    assert_eq!(rated(0, 5), 0.5);
    assert!((rated(3, 5) - 0.75).abs() < 1e-9);
    assert!(rated(30, 5) > rated(3, 5));
    assert!(rated(3, 1) < 0.5);
}

#[test]
fn similarity_compares_kind_and_size_on_a_log_scale() {
    let town = host(1, M, 30_000, (52.0, 5.0), 2);
    let same = host(2, M, 30_000, (52.0, 5.0), 2);
    let tenfold = host(3, M, 300_000, (52.0, 5.0), 2);
    let hundredfold = host(4, M, 3_000_000, (52.0, 5.0), 2);
    let province = host(5, OrganisationKind::Province, 30_000, (52.0, 5.0), 2);
    assert!((similarity(&town, &same) - 1.0).abs() < 1e-9);
    assert!((similarity(&town, &tenfold) - 0.7).abs() < 1e-3);
    assert!((similarity(&town, &hundredfold) - 0.4).abs() < 1e-3);
    assert_eq!(similarity(&town, &province), 0.0);
}

#[test]
fn proximity_availability_and_fairness_halve_as_configured() {
    assert!((proximity(40.0, 40.0) - 0.5).abs() < 1e-9);
    assert_eq!(proximity(0.0, 40.0), 1.0);
    assert_eq!(availability(6, 3), 0.5);
    assert_eq!(availability(0, 0), 0.0);
    assert_eq!(fairness(0, 2.0), 1.0);
    assert!((fairness(2, 2.0) - 0.5).abs() < 1e-9);
}

#[test]
fn distances_match_known_pairs() {
    // Dam square, Amsterdam; Dom tower, Utrecht; Martini tower, Groningen;
    // Vrijthof, Maastricht. Commonly quoted straight-line distances: about
    // 35 km and about 270 km. One degree of latitude is 111.2 km.
    let dam = host(1, M, 1, (52.37310, 4.89320), 1);
    let dom = host(2, M, 1, (52.09063, 5.12143), 1);
    let martini = host(3, M, 1, (53.21917, 6.56833), 1);
    let vrijthof = host(4, M, 1, (50.84889, 5.68889), 1);
    let close = |a: f64, b: f64| (a - b).abs() < 1.0;
    assert!(
        close(distance_km(&dam, &dom), 35.0),
        "{}",
        distance_km(&dam, &dom)
    );
    let far = distance_km(&martini, &vrijthof);
    assert!(close(far, 270.0), "{far}");
    let north = host(5, M, 1, (53.37310, 4.89320), 1);
    assert!((distance_km(&dam, &north) - 111.19).abs() < 0.01);
    assert_eq!(distance_km(&dam, &dam), 0.0);
}
