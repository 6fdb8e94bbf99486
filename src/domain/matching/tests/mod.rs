use chrono::NaiveDate;

use super::*;
use crate::domain::organisation::Language;

const CLOUD: TopicId = TopicId(1);

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn host(id: i64, kind: OrganisationKind, size: i64, at: (f64, f64), capacity: i32) -> Host {
    Host::new(
        OrganisationId(id),
        (format!("C{id}"), format!("Organisatie {id}")),
        kind,
        Some("Utrecht".into()),
        size,
        at,
        capacity,
    )
}

fn row(org: i64, level: u8, since: Option<i32>, willing: bool) -> ExpertiseRow {
    ExpertiseRow {
        organisation: OrganisationId(org),
        topic: CLOUD,
        level,
        since_year: since,
        willing_to_host: willing,
    }
}

fn snapshot(hosts: Vec<Host>, rows: Vec<ExpertiseRow>) -> Snapshot {
    let topics = vec![(
        CLOUD,
        "cloud-migration".to_string(),
        "Migratie naar de cloud".to_string(),
        "Cloud migration".to_string(),
    )];
    Snapshot::build(1, hosts, topics, rows)
}

fn query(requester: i64) -> MatchQuery {
    MatchQuery {
        requester: OrganisationId(requester),
        topic: CLOUD,
        limit: DEFAULT_LIMIT,
        kinds: Vec::new(),
        province: None,
        max_distance_km: None,
        preference: Preference::Best,
        today: day(),
    }
}

const M: OrganisationKind = OrganisationKind::Municipality;

mod components;

#[test]
fn hard_filters_exclude_with_a_reason() {
    let hosts = vec![
        host(1, M, 30_000, (52.0, 5.0), 2), // requester, level 2
        host(2, M, 30_000, (52.1, 5.0), 2), // unwilling
        host(3, M, 30_000, (52.1, 5.1), 2), // level 2: not ahead
        host(4, M, 30_000, (52.2, 5.1), 0), // no capacity
        host(5, M, 30_000, (52.3, 5.1), 2), // declined
        host(6, M, 30_000, (52.4, 5.1), 2), // fine
        host(7, M, 30_000, (52.4, 5.2), 2), // no expertise
    ];
    let rows = vec![
        row(1, 2, None, true),
        row(2, 5, None, false),
        row(3, 2, None, true),
        row(4, 5, None, true),
        row(5, 5, None, true),
        row(6, 4, None, true),
    ];
    let snap = snapshot(hosts, rows);
    let mut context = Context::default();
    context
        .declined
        .insert((OrganisationId(5), OrganisationId(1), CLOUD));
    let tuning = Tuning::default();
    let q = query(1);
    let ranked = rank(&snap, &q, &context, &tuning).unwrap();
    assert_eq!(ranked.iter().map(|c| c.host.0).collect::<Vec<_>>(), [6]);
    let why = |id| match explain(&snap, &q, &context, &tuning, OrganisationId(id)).unwrap() {
        Explanation::Excluded { reason, .. } => reason,
        other => panic!("{id} not excluded: {other:?}"),
    };
    assert_eq!(why(1), Exclusion::Requester);
    assert_eq!(why(2), Exclusion::NotWillingToHost);
    assert_eq!(
        why(3),
        Exclusion::NotAhead {
            host_level: 2,
            requester_level: 2
        }
    );
    assert_eq!(why(4), Exclusion::NoCapacity);
    assert_eq!(why(5), Exclusion::DeclinedRecently);
    assert_eq!(why(7), Exclusion::NoExpertise);
    assert_eq!(why(99), Exclusion::NotInDirectory);
    match explain(&snap, &q, &context, &tuning, OrganisationId(6)).unwrap() {
        Explanation::Ranked {
            rank,
            of,
            candidate,
        } => {
            assert_eq!((rank, of), (1, 1));
            assert_eq!(candidate, ranked[0]);
        }
        other => panic!("{other:?}"),
    }
    let topic = snap.topic(CLOUD).unwrap();
    assert_eq!(
        text::exclusion(&why(3), topic, Language::En),
        "Not further than you on Cloud migration: level 2/5, yours is 2/5"
    );
}

#[test]
fn query_filters_kind_province_and_distance() {
    let hosts = vec![
        host(1, M, 30_000, (52.0, 5.0), 2),
        host(2, OrganisationKind::Province, 1_000_000, (52.0, 5.1), 2),
        host(3, M, 30_000, (53.0, 6.0), 2),
    ];
    let rows = vec![row(2, 4, None, true), row(3, 4, None, true)];
    let snap = snapshot(hosts, rows);
    let (context, tuning) = (Context::default(), Tuning::default());
    let mut q = query(1);
    q.kinds = vec![M];
    let ids = |q: &MatchQuery| -> Vec<i64> {
        rank(&snap, q, &context, &tuning)
            .unwrap()
            .iter()
            .map(|c| c.host.0)
            .collect()
    };
    assert_eq!(ids(&q), [3]);
    q.kinds.clear();
    q.max_distance_km = Some(50.0);
    assert_eq!(ids(&q), [2]);
    q.max_distance_km = None;
    q.province = Some("Fryslân".into());
    assert!(ids(&q).is_empty());
}

#[test]
fn at_equal_mastery_a_near_similar_peer_beats_a_far_big_city() {
    let hosts = vec![
        host(1, M, 28_000, (52.95, 5.95), 2),  // requester: a small town
        host(2, M, 31_000, (52.90, 6.10), 2),  // a neighbour of similar size
        host(3, M, 900_000, (52.37, 4.90), 2), // a big city, far away
    ];
    let rows = vec![row(2, 5, Some(2023), true), row(3, 5, Some(2023), true)];
    let snap = snapshot(hosts, rows);
    let ranked = rank(&snap, &query(1), &Context::default(), &Tuning::default()).unwrap();
    assert_eq!(ranked.iter().map(|c| c.host.0).collect::<Vec<_>>(), [2, 3]);
    let reasons = |lang| {
        text::reasons(
            &ranked[0],
            snap.host(OrganisationId(1)).unwrap(),
            snap.host(OrganisationId(2)).unwrap(),
            snap.topic(CLOUD).unwrap(),
            3,
            Preference::Best,
            lang,
        )
    };
    let en = reasons(Language::En);
    assert_eq!(
        en[0],
        "Organisatie 2 is among the best in class on Cloud migration (level 5 since 2023; \
         no ratings yet) — 11 km, about a quarter of an hour of travel"
    );
    assert_eq!(en[1], "Order: best first");
    assert_eq!(en[2], "No ratings from earlier visits yet");
    assert_eq!(en[3], "Similar size: 31,000 vs 28,000 inhabitants");
    assert_eq!(en[4], "11 km away, about a quarter of an hour of travel");
    assert_eq!(en[6], "Hosted 0 visits this quarter");
    let nl = reasons(Language::Nl);
    assert_eq!(
        nl[0],
        "Organisatie 2 hoort bij de besten van de klas op Migratie naar de cloud (niveau 5 \
         sinds 2023; nog geen beoordelingen) — 11 km, ongeveer een kwartier reizen"
    );
    assert_eq!(nl[1], "Volgorde: de besten eerst");
    assert_eq!(nl[3], "Vergelijkbare omvang: 31.000 tegen 28.000 inwoners");
}

/// The founding case in miniature: the best in class far away, good
/// neighbours close by. `best` puts the best first, `near` a neighbour,
/// `similar` the one of the requester's size; nobody disappears.
#[test]
fn the_preference_decides_what_leads() {
    use crate::domain::lesson::ReputationRules;
    let hosts = vec![
        host(1, M, 34_000, (52.04, 4.64), 2),  // requester (Waddinxveen)
        host(2, M, 22_000, (51.54, 3.56), 2),  // the best, far away (Veere)
        host(3, M, 76_000, (52.02, 4.71), 2),  // level 4 next door (Gouda)
        host(4, M, 37_000, (52.07, 4.77), 2),  // level 3 next door, same size
        host(5, M, 115_000, (52.11, 4.64), 2), // level 3, a bigger neighbour
    ];
    let rows = vec![
        row(1, 1, Some(2025), false),
        row(2, 5, Some(2019), true),
        row(3, 4, Some(2021), true),
        row(4, 3, Some(2021), true),
        row(5, 3, Some(2021), true),
    ];
    let snap = snapshot(hosts, rows);
    let mut context = Context::default();
    let rated: Vec<LessonFact> = [5, 5, 4, 5, 4, 5, 4]
        .iter()
        .map(|&rating| LessonFact {
            host: OrganisationId(2),
            topic: CLOUD,
            by_visitor: true,
            rating,
            hours_saved: 40,
            on: day(),
            published: true,
        })
        .collect();
    let tuning = Tuning::default();
    context.add_lessons(&rated, &ReputationRules::default(), day());
    let order = |preference| {
        let mut q = query(1);
        q.preference = preference;
        rank(&snap, &q, &context, &tuning)
            .unwrap()
            .iter()
            .map(|c| c.host.0)
            .collect::<Vec<_>>()
    };
    let best = order(Preference::Best);
    assert_eq!(best, [2, 3, 4, 5]);
    let near = order(Preference::Near);
    assert_eq!(near[0], 3, "{near:?}");
    assert_eq!(near.last(), Some(&2), "{near:?}");
    let similar = order(Preference::Similar);
    assert_eq!(similar[0], 4, "{similar:?}");
    assert_eq!(similar.len(), 4);
    // The best is the only one of its class; the others are ahead of the
    // requester.
    let mut q = query(1);
    let ranked = rank(&snap, &q, &context, &tuning).unwrap();
    assert_eq!(ranked[0].class, Class::Best);
    assert!(ranked[1..].iter().all(|c| c.class == Class::Ahead));
    let headline = text::headline(
        &ranked[0],
        snap.host(OrganisationId(2)).unwrap(),
        snap.topic(CLOUD).unwrap(),
        Language::Nl,
    );
    assert_eq!(
        headline,
        "Organisatie 2 is de beste van de klas op Migratie naar de cloud (niveau 5 sinds 2019; \
         4,6 uit 5 van 7 bezoekers) — 93 km, ongeveer een uur en een kwartier reizen"
    );
    // At a glance: the best in class alone beside the three nearest others.
    let g = glance(&snap, &q, &context, &tuning, 3).unwrap();
    assert!(g.best_in_class);
    assert_eq!(g.best.iter().map(|c| c.host.0).collect::<Vec<_>>(), [2]);
    let nearby: Vec<i64> = g.near.iter().map(|c| c.host.0).collect();
    assert_eq!(nearby, near[..3], "{nearby:?}");
    // Explain agrees with each order.
    for preference in Preference::ALL {
        q.preference = preference;
        let ranked = rank(&snap, &q, &context, &tuning).unwrap();
        for (i, c) in ranked.iter().enumerate() {
            match explain(&snap, &q, &context, &tuning, c.host).unwrap() {
                Explanation::Ranked { rank, .. } => assert_eq!(rank, i + 1),
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn preferences_parse_and_say_what_they_are() {
    assert_eq!("best".parse::<Preference>().unwrap(), Preference::Best);
    assert_eq!("near".parse::<Preference>().unwrap(), Preference::Near);
    assert_eq!(
        "similar".parse::<Preference>().unwrap(),
        Preference::Similar
    );
    let e = "nearest".parse::<Preference>().unwrap_err();
    assert_eq!(
        e.message,
        "prefer must be best, near or similar, not 'nearest'"
    );
    assert_eq!(Preference::default(), Preference::Best);
    for p in Preference::ALL {
        assert_eq!(p.as_str().parse::<Preference>().unwrap(), p);
        assert_ne!(
            text::ordering(p, Language::Nl),
            text::ordering(p, Language::En)
        );
    }
}

#[test]
fn weights_and_tuning_are_validated() {
    assert!(Tuning::default().validate().is_ok());
    let mut t = Tuning::default();
    t.weights.fairness = -1.0;
    assert!(t.validate().is_err());
    t.weights.fairness = f64::NAN;
    assert!(t.validate().is_err());
    // All zero is allowed: then only the leading component orders.
    let zero = Weights {
        mastery: 0.0,
        similarity: 0.0,
        proximity: 0.0,
        availability: 0.0,
        fairness: 0.0,
    };
    assert!(zero.validate().is_ok());
    let t = Tuning {
        proximity_half_km: 0.0,
        ..Tuning::default()
    };
    assert!(t.validate().is_err());
}

/// Near-equal hosts take turns: when each request goes to the current top
/// host (its recent load rising), the others come first in turn.
#[test]
fn fairness_rotates_near_equal_hosts() {
    let hosts = vec![
        host(1, M, 30_000, (52.0, 5.0), 2),
        host(2, M, 30_000, (52.10, 5.0), 4),
        host(3, M, 31_000, (52.10, 5.01), 4),
        host(4, M, 29_000, (52.11, 5.0), 4),
    ];
    let rows = vec![
        row(2, 4, Some(2024), true),
        row(3, 4, Some(2024), true),
        row(4, 4, Some(2024), true),
    ];
    let snap = snapshot(hosts, rows);
    let tuning = Tuning::default();
    let mut context = Context::default();
    let mut firsts = Vec::new();
    for _ in 0..6 {
        let top = rank(&snap, &query(1), &context, &tuning).unwrap()[0].host;
        firsts.push(top.0);
        context.activity.entry(top).or_default().hosted_recently += 1;
    }
    for id in [2, 3, 4] {
        assert!(firsts.contains(&id), "{id} never first: {firsts:?}");
    }
    // Each got two of the six.
    for id in [2, 3, 4] {
        assert_eq!(firsts.iter().filter(|&&f| f == id).count(), 2, "{firsts:?}");
    }
}

mod properties;

/// Hosts equal in mastery are ordered by the other components: the nearer
/// first, then, once the nearer has had visits, the others in turn.
#[test]
fn equals_in_mastery_are_ordered_by_proximity_and_take_turns() {
    let hosts = vec![
        host(1, M, 30_000, (52.0, 5.0), 2),
        host(2, M, 30_000, (52.30, 5.0), 4), // 33 km
        host(3, M, 30_000, (52.10, 5.0), 4), // 11 km
        host(4, M, 30_000, (53.00, 5.0), 4), // 111 km, and level 5
    ];
    let rows = vec![
        row(2, 4, Some(2024), true),
        row(3, 4, Some(2024), true),
        row(4, 5, Some(2024), true),
    ];
    let snap = snapshot(hosts, rows);
    let tuning = Tuning::default();
    let mut context = Context::default();
    let ids = |context: &Context| -> Vec<i64> {
        rank(&snap, &query(1), context, &tuning)
            .unwrap()
            .iter()
            .map(|c| c.host.0)
            .collect()
    };
    assert_eq!(ids(&context), [4, 3, 2]);
    // The level-5 host stays first however busy; the equals swap places
    // once the nearer one has hosted visits.
    for id in [4, 3] {
        context
            .activity
            .entry(OrganisationId(id))
            .or_default()
            .hosted_recently = 3;
    }
    assert_eq!(ids(&context), [4, 2, 3]);
}

#[test]
fn visits_become_recent_load_bookings_and_declines() {
    use crate::domain::visit::VisitState as S;
    let today = day(); // Monday 23 November 2026
    let fact =
        |host: i64, state: S, date: Option<NaiveDate>, answered: Option<NaiveDate>| VisitFact {
            host: OrganisationId(host),
            requester: OrganisationId(9),
            topic: CLOUD,
            state,
            date,
            answered_on: answered,
        };
    let days = |n: i64| today + chrono::Duration::days(n);
    let context = Context::from_visits(
        &[
            fact(1, S::Completed, Some(days(-30)), None),  // recent
            fact(1, S::Completed, Some(days(-120)), None), // too long ago
            fact(1, S::Accepted, Some(days(20)), None),    // booked ahead, counts as recent
            fact(1, S::Accepted, Some(days(120)), None),   // beyond a 3-month horizon
            fact(2, S::Requested, None, None),             // not yet anything
            fact(2, S::Cancelled, Some(days(10)), None),   // called off
            fact(3, S::Declined, None, Some(days(-10))),
            fact(4, S::Declined, None, Some(days(-200))), // forgotten
        ],
        today,
        3,
    );
    let a1 = context.activity(OrganisationId(1));
    assert_eq!((a1.hosted_recently, a1.booked_ahead), (2, 1));
    assert_eq!(context.activity(OrganisationId(2)), Activity::default());
    assert!(context
        .declined
        .contains(&(OrganisationId(3), OrganisationId(9), CLOUD)));
    assert_eq!(context.declined.len(), 1);
}

/// Best in class is the `best` order's mastery: level first, ratings and
/// recency within it.
#[test]
fn leaders_rank_by_mastery() {
    use crate::domain::lesson::ReputationRules;
    let hosts = vec![
        host(1, M, 30_000, (52.0, 5.0), 2),
        host(2, M, 30_000, (52.0, 5.0), 2),
        host(3, M, 30_000, (52.0, 5.0), 2),
        host(4, M, 30_000, (52.0, 5.0), 2),
    ];
    let rows = vec![
        row(1, 5, Some(2020), true),
        row(2, 3, Some(2020), true),
        row(3, 4, Some(2020), false),
        row(4, 2, Some(2020), true),
    ];
    let snap = snapshot(hosts, rows);
    let rules = ReputationRules::default();
    let lesson = |host: i64, rating: u8| LessonFact {
        host: OrganisationId(host),
        topic: CLOUD,
        by_visitor: true,
        rating,
        hours_saved: 10,
        on: day(),
        published: true,
    };
    let mut context = Context::default();
    // Host 2: ten visits at 4.5; host 4: one 5; host 3: one 1; host 1: none.
    let mut facts: Vec<LessonFact> = (0..5).flat_map(|_| [lesson(2, 5), lesson(2, 4)]).collect();
    facts.push(lesson(4, 5));
    facts.push(lesson(3, 1));
    context.add_lessons(&facts, &rules, day());
    let tuning = Tuning::default();
    let all = leaders(&snap, CLOUD, &context, &tuning, day(), 10);
    let order: Vec<i64> = all.iter().map(|l| l.host.0).collect();
    // Level 5 unrated > level 4 rated 2.5 > level 3 rated 4.15 > level 2 rated 3.5.
    assert_eq!(order, [1, 3, 2, 4]);
    assert_eq!(all[0].class, Class::Best);
    assert!(all[1..].iter().all(|l| l.class == Class::Ahead));
    let rated = all.iter().find(|l| l.host.0 == 2).unwrap();
    assert_eq!(
        (rated.reputation.visits, rated.reputation.hours_saved),
        (10, 100)
    );
    assert_eq!(rated.reputation.published, 10);
    // At equal level the better rated leads: 4.15 > 3.5 > unrated > 2.5.
    let level = |l: u8| {
        (1..=4)
            .map(|id| row(id, l, Some(2020), true))
            .collect::<Vec<_>>()
    };
    let hosts: Vec<Host> = (1..=4)
        .map(|id| host(id, M, 30_000, (52.0, 5.0), 2))
        .collect();
    let same = snapshot(hosts, level(4));
    let order: Vec<i64> = leaders(&same, CLOUD, &context, &tuning, day(), 10)
        .iter()
        .map(|l| l.host.0)
        .collect();
    assert_eq!(order, [2, 4, 1, 3]);
}

#[test]
fn a_host_is_found_by_code_name_or_the_one_name_containing_it() {
    let mut zwolle = host(1, M, 130_000, (52.5, 6.1), 2);
    zwolle.name = "Zwolle".into();
    let mut sudwest = host(2, M, 90_000, (53.0, 5.6), 2);
    sudwest.name = "Súdwest-Fryslân".into();
    let mut kampen = host(3, M, 55_000, (52.55, 5.9), 2);
    kampen.name = "Kampen".into();
    let s = snapshot(vec![zwolle, sudwest, kampen], vec![]);
    let names: Vec<&str> = s.hosts_by_name().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["Kampen", "Súdwest-Fryslân", "Zwolle"]);
    let found = |q: &str| s.find_by_name(q).map(|h| h.id.0);
    assert_eq!(found("c2"), Some(2), "by code, any case");
    assert_eq!(
        found("sudwest-fryslan"),
        Some(2),
        "accents and case ignored"
    );
    assert_eq!(found("zwol"), Some(1), "the only name containing it");
    assert_eq!(found("e"), None, "several names contain it: ambiguous");
    assert_eq!(found("Utrecht"), None);
    assert_eq!(found("  "), None);
}
