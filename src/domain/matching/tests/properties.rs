//! Properties over random directories: what holds for any snapshot.

use proptest::prelude::*;

use super::*;

#[derive(Debug, Clone)]
struct World {
    hosts: Vec<Host>,
    rows: Vec<ExpertiseRow>,
    context: Context,
}

fn world() -> impl Strategy<Value = World> {
    let one = (
        0usize..3,
        1i64..2_000_000,
        50.8f64..53.5,
        3.4f64..7.2,
        0i32..4,
        prop::option::of((1u8..=5, prop::option::of(2000i32..2027), any::<bool>())),
        0u32..5,
        0u32..8,
        any::<bool>(),
        prop::collection::vec(1u8..=5, 0..6),
    );
    prop::collection::vec(one, 2..40).prop_map(|specs| {
        let kinds = [M, OrganisationKind::Province, OrganisationKind::WaterBoard];
        let mut world = World {
            hosts: Vec::new(),
            rows: Vec::new(),
            context: Context::default(),
        };
        let mut lessons = Vec::new();
        for (i, (kind, size, lat, lon, cap, expertise, hosted, booked, declined, ratings)) in
            specs.into_iter().enumerate()
        {
            let id = i as i64 + 1;
            world
                .hosts
                .push(host(id, kinds[kind], size, (lat, lon), cap));
            if let Some((level, since, willing)) = expertise {
                world.rows.push(row(id, level, since, willing));
            }
            world.context.activity.insert(
                OrganisationId(id),
                Activity {
                    hosted_recently: hosted,
                    booked_ahead: booked,
                },
            );
            if declined && id % 3 == 0 {
                world
                    .context
                    .declined
                    .insert((OrganisationId(id), OrganisationId(1), CLOUD));
            }
            lessons.extend(ratings.into_iter().map(|rating| rated(id, rating)));
        }
        world
            .context
            .add_lessons(&lessons, &Default::default(), day());
        world
    })
}

/// A visitor's rating of `host` on the topic, today.
fn rated(host: i64, rating: u8) -> LessonFact {
    LessonFact {
        host: OrganisationId(host),
        topic: CLOUD,
        by_visitor: true,
        rating,
        hours_saved: 8,
        on: day(),
        published: false,
    }
}

fn ranked_all(
    w: &World,
    rows: Vec<ExpertiseRow>,
    context: &Context,
    p: Preference,
) -> Vec<Candidate> {
    let mut q = query(1);
    q.limit = MAX_LIMIT;
    q.preference = p;
    rank(
        &snapshot(w.hosts.clone(), rows),
        &q,
        context,
        &Tuning::default(),
    )
    .unwrap()
}

fn preference() -> impl Strategy<Value = Preference> {
    prop::sample::select(Preference::ALL.to_vec())
}

proptest! {
    #[test]
    fn results_are_sorted_deterministic_and_never_excluded(w in world(), p in preference()) {
        let snap = snapshot(w.hosts.clone(), w.rows.clone());
        let tuning = Tuning::default();
        let mut q = query(1);
        q.limit = MAX_LIMIT;
        q.preference = p;
        let ranked = rank(&snap, &q, &w.context, &tuning).unwrap();
        // Same input in another order: same output.
        let mut reversed = w.rows.clone();
        reversed.reverse();
        let again = rank(&snapshot(w.hosts.clone(), reversed), &q, &w.context, &tuning).unwrap();
        prop_assert_eq!(&ranked, &again);
        for pair in ranked.windows(2) {
            prop_assert!(pair[0].score >= pair[1].score);
        }
        let requester_level = snap.topic(CLOUD).unwrap().level_of(OrganisationId(1));
        for c in &ranked {
            prop_assert!(c.host != OrganisationId(1));
            prop_assert!(!w.context.declined.contains(&(c.host, OrganisationId(1), CLOUD)));
            prop_assert!(c.level > requester_level);
            prop_assert!(c.capacity_left > 0);
            let e = snap.topic(CLOUD).unwrap().expert(c.host).unwrap();
            prop_assert!(e.willing_to_host);
            prop_assert!((0.0..=1.0).contains(&c.score));
            // Every candidate ranks where explain says it does.
            let explained = explain(&snap, &q, &w.context, &tuning, c.host).unwrap();
            let is_ranked = matches!(explained, Explanation::Ranked { .. });
            prop_assert!(is_ranked);
        }
    }

    /// Under `best`, a host clearly ahead in mastery — two levels, or one
    /// level with a reputation at least as good — is never ranked below the
    /// weaker one, wherever in the Netherlands either of them is, whatever
    /// their size, free slots or recent visits.
    #[test]
    fn under_best_a_clearly_stronger_host_never_ranks_below_a_weaker_one(w in world()) {
        let ranked = ranked_all(&w, w.rows.clone(), &w.context, Preference::Best);
        for (i, above) in ranked.iter().enumerate() {
            for below in &ranked[i + 1..] {
                let two_levels = below.level >= above.level + 2;
                let level_and_reputation = below.level > above.level
                    && below.reputation.score >= above.reputation.score;
                prop_assert!(
                    !(two_levels || level_and_reputation),
                    "{:?} (level {}, reputation {:.2}) above {:?} (level {}, reputation {:.2})",
                    above.host, above.level, above.reputation.score,
                    below.host, below.level, below.reputation.score
                );
            }
        }
    }

    #[test]
    fn raising_a_hosts_level_never_lowers_its_rank(
        w in world(),
        pick in 0usize..40,
        p in preference(),
    ) {
        let ranked = ranked_all(&w, w.rows.clone(), &w.context, p);
        prop_assume!(!ranked.is_empty());
        let target = ranked[pick % ranked.len()].host;
        let before = ranked.iter().position(|c| c.host == target).unwrap();
        let mut rows = w.rows.clone();
        let r = rows.iter_mut().find(|r| r.organisation == target).unwrap();
        prop_assume!(r.level < 5);
        r.level += 1;
        let after = ranked_all(&w, rows, &w.context, p);
        let after = after.iter().position(|c| c.host == target).unwrap();
        prop_assert!(after <= before, "rank {} -> {}", before + 1, after + 1);
    }

    #[test]
    fn a_better_rating_never_lowers_a_hosts_rank(
        w in world(),
        pick in 0usize..40,
        p in preference(),
        ratings in prop::collection::vec(1u8..=5, 0..6),
    ) {
        // The same hosts with and without one more top rating for one of
        // them (on top of some ratings of its own).
        let ranked = ranked_all(&w, w.rows.clone(), &w.context, p);
        prop_assume!(!ranked.is_empty());
        let target = ranked[pick % ranked.len()].host;
        // The target's standing comes from `ratings` alone (add_lessons
        // replaces a host's reputation with what the lessons given say).
        let mut base = w.context.clone();
        base.reputation.retain(|(host, _), _| *host != target);
        let mut lessons: Vec<LessonFact> = ratings.iter().map(|&r| rated(target.0, r)).collect();
        let mut before_ctx = base.clone();
        before_ctx.add_lessons(&lessons, &Default::default(), day());
        lessons.push(rated(target.0, 5));
        let mut after_ctx = base;
        after_ctx.add_lessons(&lessons, &Default::default(), day());
        let position = |ctx: &Context| {
            ranked_all(&w, w.rows.clone(), ctx, p)
                .iter()
                .position(|c| c.host == target)
                .unwrap()
        };
        let (before, after) = (position(&before_ctx), position(&after_ctx));
        prop_assert!(after <= before, "rank {} -> {}", before + 1, after + 1);
    }
}
