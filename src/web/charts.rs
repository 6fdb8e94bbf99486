//! Charts drawn on the server as SVG (issue 22, docs/insight.md): no
//! JavaScript, nothing fetched. Each chart is an `<svg role="img">` named
//! by its `<title>` and described by its `<desc>`; the page puts a table
//! with the same figures beside it. Colours are the Okabe–Ito palette (safe
//! for colour blindness), and never the only cue: kinds of organisation also
//! differ in shape, and every mark has a dark outline for contrast.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::domain::insight::Standing;
use crate::domain::organisation::OrganisationKind;

/// Bars, lines and text (contrast ≥ 4.5:1 on white).
const INK: &str = "#1b1b1b";
const BAR: &str = "#0072B2";
const MUTED: &str = "#4a4a4a";
const LAND: &str = "#c9ced4";

/// Text for SVG content and attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters, with "…" when cut (the full text is in the
/// mark's `<title>` and in the table).
fn short(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(n - 1).collect();
        s.push('…');
        s
    }
}

/// Numbers in SVG coordinates: one decimal is plenty.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

fn frame(id: &str, (w, h): (f64, f64), title: &str, desc: &str, body: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="Arial, Helvetica, sans-serif" font-size="13"><title id="{id}-title">{t}</title><desc id="{id}-desc">{d}</desc>{body}</svg>"#,
        id = esc(id),
        w = n(w),
        h = n(h),
        t = esc(title),
        d = esc(desc),
    )
}

/// One bar: its label, its value, and the value as people read it.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
}

/// Horizontal bars, longest for the largest value; `max` fixes the scale
/// (e.g. 1.0 for rates), else the largest value fills the width.
pub fn bars(id: &str, title: &str, desc: &str, rows: &[Bar], max: Option<f64>) -> String {
    const LABEL: f64 = 190.0;
    const AREA: f64 = 340.0;
    const ROW: f64 = 28.0;
    let top = max
        .unwrap_or_else(|| rows.iter().map(|r| r.value).fold(0.0, f64::max))
        .max(f64::MIN_POSITIVE);
    let height = ROW * rows.len().max(1) as f64 + 12.0;
    let mut body = String::new();
    for (i, r) in rows.iter().enumerate() {
        let y = 6.0 + ROW * i as f64;
        let width = (r.value.max(0.0) / top * AREA).min(AREA);
        let _ = write!(
            body,
            r#"<g class="row"><title>{full}: {text}</title><text x="{lx}" y="{ty}" text-anchor="end" fill="{INK}">{label}</text><rect class="bar" data-value="{value}" x="{x}" y="{y}" width="{w}" height="18" fill="{BAR}" stroke="{INK}" stroke-width="0.5"/><text x="{vx}" y="{ty}" fill="{INK}">{text}</text></g>"#,
            full = esc(&r.label),
            text = esc(&r.text),
            lx = n(LABEL - 8.0),
            ty = n(y + 14.0),
            label = esc(&short(&r.label, 26)),
            value = r.value,
            x = n(LABEL),
            y = n(y),
            w = n(width),
            vx = n(LABEL + width + 6.0),
        );
    }
    let _ = write!(
        body,
        r#"<line x1="{x}" y1="2" x2="{x}" y2="{y2}" stroke="{INK}" stroke-width="1"/>"#,
        x = n(LABEL),
        y2 = n(height - 4.0),
    );
    frame(id, (LABEL + AREA + 130.0, height), title, desc, &body)
}

/// Small multiples: a row of columns per series (one per month or year),
/// all on one scale, the columns named once along the bottom: a short name,
/// and under it, where given, a second line (the year under January).
pub fn month_columns(
    id: &str,
    title: &str,
    desc: &str,
    months: &[(String, Option<String>)],
    series: &[(String, Vec<u32>)],
) -> String {
    const LABEL: f64 = 170.0;
    const COL: f64 = 30.0;
    const ROW: f64 = 46.0;
    const TALL: f64 = 34.0;
    let top = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut body = String::new();
    for (i, (label, values)) in series.iter().enumerate() {
        let base = 8.0 + ROW * i as f64 + TALL;
        let _ = write!(
            body,
            r#"<g class="series"><title>{full}</title><text x="{lx}" y="{ty}" text-anchor="end" fill="{INK}">{label}</text><line x1="{x0}" y1="{b}" x2="{x1}" y2="{b}" stroke="{MUTED}" stroke-width="1"/>"#,
            full = esc(label),
            lx = n(LABEL - 8.0),
            ty = n(base - 4.0),
            label = esc(&short(label, 22)),
            x0 = n(LABEL),
            x1 = n(LABEL + COL * months.len() as f64),
            b = n(base),
        );
        for (m, value) in values.iter().enumerate() {
            let h = f64::from(*value) / f64::from(top) * TALL;
            let x = LABEL + COL * m as f64 + 4.0;
            let _ = write!(
                body,
                r#"<rect class="bar" data-value="{value}" x="{x}" y="{y}" width="{w}" height="{h}" fill="{BAR}"><title>{month}: {value}</title></rect>"#,
                x = n(x),
                y = n(base - h),
                w = n(COL - 8.0),
                h = n(h),
                month = esc(&months.get(m).map_or_else(String::new, |(name, year)| {
                    format!("{name} {}", year.as_deref().unwrap_or_default())
                        .trim()
                        .to_string()
                })),
            );
            if *value > 0 {
                let _ = write!(
                    body,
                    r#"<text x="{x}" y="{y}" text-anchor="middle" font-size="11" fill="{INK}">{value}</text>"#,
                    x = n(x + (COL - 8.0) / 2.0),
                    y = n(base - h - 3.0),
                );
            }
        }
        body.push_str("</g>");
    }
    let bottom = 8.0 + ROW * series.len().max(1) as f64 + 4.0;
    for (m, (month, second)) in months.iter().enumerate() {
        let x = n(LABEL + COL * m as f64 + COL / 2.0);
        let _ = write!(
            body,
            r#"<text x="{x}" y="{y}" text-anchor="middle" font-size="11" fill="{INK}">{label}</text>"#,
            y = n(bottom),
            label = esc(month),
        );
        if let Some(second) = second {
            let _ = write!(
                body,
                r#"<text x="{x}" y="{y}" text-anchor="middle" font-size="11" fill="{INK}">{label}</text>"#,
                y = n(bottom + 14.0),
                label = esc(second),
            );
        }
    }
    let width = LABEL + COL * months.len().max(1) as f64 + 10.0;
    frame(id, (width, bottom + 24.0), title, desc, &body)
}

/// The colour of a kind of organisation (Okabe–Ito).
pub fn kind_colour(kind: OrganisationKind) -> &'static str {
    match kind {
        OrganisationKind::Municipality => "#0072B2",
        OrganisationKind::HousingCorporation => "#E69F00",
        OrganisationKind::Province => "#009E73",
        OrganisationKind::WaterBoard => "#56B4E9",
        OrganisationKind::Other => "#CC79A7",
    }
}

/// A mark for a kind of organisation: circle, square, triangle, diamond or
/// cross, so the kind shows without colour too.
fn shape(kind: OrganisationKind, (x, y): (f64, f64), r: f64, stroke: f64) -> String {
    let style = format!(
        r#"fill="{}" stroke="{INK}" stroke-width="{}""#,
        kind_colour(kind),
        n(stroke)
    );
    match kind {
        OrganisationKind::Municipality => {
            format!(
                r#"<circle cx="{}" cy="{}" r="{}" {style}/>"#,
                n(x),
                n(y),
                n(r)
            )
        }
        OrganisationKind::HousingCorporation => {
            let s = r * 0.9;
            format!(
                r#"<rect x="{}" y="{}" width="{}" height="{}" {style}/>"#,
                n(x - s),
                n(y - s),
                n(2.0 * s),
                n(2.0 * s)
            )
        }
        OrganisationKind::Province => format!(
            r#"<path d="M{} {}L{} {}L{} {}Z" {style}/>"#,
            n(x),
            n(y - r * 1.15),
            n(x + r * 1.1),
            n(y + r * 0.8),
            n(x - r * 1.1),
            n(y + r * 0.8)
        ),
        OrganisationKind::WaterBoard => format!(
            r#"<path d="M{} {}L{} {}L{} {}L{} {}Z" {style}/>"#,
            n(x),
            n(y - r * 1.2),
            n(x + r * 1.2),
            n(y),
            n(x),
            n(y + r * 1.2),
            n(x - r * 1.2),
            n(y)
        ),
        OrganisationKind::Other => {
            let (a, b) = (r * 1.1, r * 0.4);
            format!(
                r#"<path d="M{} {}h{}v{}h{}v{}h{}v{}h{}v{}h{}v{}h{}Z" {style}/>"#,
                n(x - b),
                n(y - a),
                n(2.0 * b),
                n(a - b),
                n(a - b),
                n(2.0 * b),
                n(b - a),
                n(a - b),
                n(-2.0 * b),
                n(b - a),
                n(b - a),
                n(-2.0 * b),
                n(a - b)
            )
        }
    }
}

/// The legend of kinds, as `(kind, name)`, from `(x, y)` down.
fn kind_legend(kinds: &[(OrganisationKind, String)], (x, y): (f64, f64)) -> String {
    let mut out = String::from(r#"<g class="legend">"#);
    for (i, (kind, name)) in kinds.iter().enumerate() {
        let cy = y + 22.0 * i as f64;
        out.push_str(&shape(*kind, (x + 7.0, cy), 6.0, 1.0));
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" fill="{INK}">{}</text>"#,
            n(x + 20.0),
            n(cy + 4.5),
            esc(name)
        );
    }
    out.push_str("</g>");
    out
}

/// An organisation on the map.
#[derive(Debug, Clone)]
pub struct MapMark {
    pub latitude: f64,
    pub longitude: f64,
    pub kind: OrganisationKind,
    /// 1 to 5: the mark grows with it.
    pub level: u8,
    pub best: bool,
    /// Name and figures, for the mark's `<title>`.
    pub label: String,
}

// The Netherlands, with a margin; longitude is narrowed by cos(52.2°) so
// the country keeps its shape.
const NORTH: f64 = 53.6;
const SOUTH: f64 = 50.7;
const WEST: f64 = 3.3;
const EAST: f64 = 7.3;
const MAP_SCALE: f64 = 170.0;

fn project(latitude: f64, longitude: f64) -> (f64, f64) {
    let x = (longitude - WEST) * 52.2_f64.to_radians().cos() * MAP_SCALE;
    let y = (NORTH - latitude) * MAP_SCALE;
    (x, y)
}

/// The radius of a mark for a level.
pub fn mark_radius(level: u8) -> f64 {
    2.5 + 1.3 * f64::from(level.clamp(1, 5))
}

/// The 342 municipalities' centres (CBS/PDOK, CC BY 4.0): with the
/// directory's organisations, the faint dots that make the country.
const MUNICIPALITIES: &str = include_str!("../../assets/nl-municipalities.csv");

/// Where the land is: every municipality's centre.
pub fn municipalities() -> impl Iterator<Item = (f64, f64)> {
    MUNICIPALITIES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (lat, lon) = l.split_once(',')?;
            Some((lat.trim().parse().ok()?, lon.trim().parse().ok()?))
        })
}

/// A map of the Netherlands from coordinates only (no tiles, nothing
/// fetched): every municipality's centre and every organisation a faint
/// dot (`land`), the topic's organisations as marks by kind, sized by
/// level, the best in class with a thick outline.
pub fn map(
    id: &str,
    title: &str,
    desc: &str,
    land: &[(f64, f64)],
    marks: &[MapMark],
    legend: (&[(OrganisationKind, String)], &str, [&str; 2]),
) -> String {
    let (width, height) = project(SOUTH, EAST);
    let mut body = String::from(r#"<g class="land" aria-hidden="true">"#);
    for (lat, lon) in land {
        let (x, y) = project(*lat, *lon);
        let _ = write!(
            body,
            r#"<circle cx="{}" cy="{}" r="2" fill="{LAND}"/>"#,
            n(x),
            n(y)
        );
    }
    body.push_str("</g>");
    // Small marks on top of large ones.
    let mut order: Vec<&MapMark> = marks.iter().collect();
    order.sort_by_key(|m| std::cmp::Reverse(m.level));
    for m in order {
        let at = project(m.latitude, m.longitude);
        let _ = write!(
            body,
            r#"<g class="org" data-kind="{}" data-level="{}" data-best="{}"><title>{}</title>{}</g>"#,
            m.kind.as_str(),
            m.level,
            m.best,
            esc(&m.label),
            shape(
                m.kind,
                at,
                mark_radius(m.level),
                if m.best { 2.5 } else { 1.0 }
            )
        );
    }
    let (kinds, best, levels) = legend;
    let legend_x = width + 10.0;
    body.push_str(&kind_legend(kinds, (legend_x, 20.0)));
    let y = 20.0 + 22.0 * kinds.len() as f64 + 10.0;
    let _ = write!(
        body,
        r#"<g class="legend">{}<text x="{}" y="{}" fill="{INK}">{}</text></g>"#,
        shape(
            OrganisationKind::Municipality,
            (legend_x + 7.0, y),
            6.0,
            2.5
        ),
        n(legend_x + 20.0),
        n(y + 4.5),
        esc(best)
    );
    // What the size says: level 1 and level 5.
    for (k, (level, label)) in [(1, levels[0]), (5, levels[1])].into_iter().enumerate() {
        let y = y + 28.0 + 26.0 * k as f64;
        let _ = write!(
            body,
            r#"<g class="legend">{}<text x="{}" y="{}" fill="{INK}">{}</text></g>"#,
            shape(
                OrganisationKind::Municipality,
                (legend_x + 9.0, y),
                mark_radius(level),
                1.0
            ),
            n(legend_x + 24.0),
            n(y + 4.5),
            esc(label)
        );
    }
    frame(id, (width + 200.0, height), title, desc, &body)
}

/// A node of the network as drawn.
#[derive(Debug, Clone)]
pub struct NetNode {
    pub label: String,
    pub kind: OrganisationKind,
    pub standing: Standing,
    /// Known by name (an unnamed party is drawn with a dashed ring).
    pub named: bool,
    /// For its `<title>`: "Zwolle: 3 bezoeken ontvangen".
    pub summary: String,
}

const NET_W: f64 = 900.0;
/// Visits between the same two organisations drawn one arrow each; more
/// are drawn as one thick arrow.
pub const ARROWS_PER_PAIR: usize = 3;
const NET_H: f64 = 560.0;

/// Positions: best in class in the middle, other hosts on a ring around
/// them, visitors on an outer ring, each visitor near the hosts it visited.
fn layout(nodes: &[NetNode], edges: &[(usize, usize)]) -> Vec<(f64, f64)> {
    use std::f64::consts::{PI, TAU};
    let (cx, cy) = (NET_W / 2.0, NET_H / 2.0);
    let mut at = vec![(cx, cy); nodes.len()];
    let ring = |standing: Standing| -> Vec<usize> {
        (0..nodes.len())
            .filter(|&i| nodes[i].standing == standing)
            .collect()
    };
    let place = |at: &mut Vec<(f64, f64)>, members: &[usize], radius: f64, start: f64| {
        let count = members.len().max(1) as f64;
        for (k, &i) in members.iter().enumerate() {
            let angle = start + TAU * k as f64 / count;
            at[i] = (cx + radius * angle.cos(), cy + radius * angle.sin());
        }
    };
    let best = ring(Standing::BestInClass);
    if best.len() > 1 {
        place(&mut at, &best, 70.0, -PI / 2.0);
    }
    // The other hosts between the best in class's directions.
    let hosts = ring(Standing::Host);
    place(
        &mut at,
        &hosts,
        160.0,
        -PI / 2.0 + PI / best.len().max(1) as f64,
    );
    // Each visitor at the mean direction of the nodes it visited.
    let mut visitors: Vec<(f64, usize)> = ring(Standing::Visitor)
        .into_iter()
        .map(|v| {
            let (mut sx, mut sy) = (0.0, 0.0);
            for &(from, to) in edges {
                if from == v {
                    sx += at[to].0 - cx;
                    sy += at[to].1 - cy;
                }
            }
            (sy.atan2(sx), v)
        })
        .collect();
    visitors.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    // As near their direction as the others allow: each at least `gap`
    // after the one before.
    let gap = (TAU / visitors.len().max(1) as f64).min(0.45);
    for k in 1..visitors.len() {
        let least = visitors[k - 1].0 + gap;
        if visitors[k].0 < least {
            visitors[k].0 = least;
        }
    }
    for (angle, i) in visitors {
        at[i] = (cx + 240.0 * angle.cos(), cy + 240.0 * angle.sin());
    }
    at
}

/// The node's radius.
fn node_radius(standing: Standing) -> f64 {
    match standing {
        Standing::BestInClass => 12.0,
        Standing::Host => 9.0,
        Standing::Visitor => 7.0,
    }
}

/// Who visited whom: one node per organisation, one arrow per visit (from
/// the visitor to the host; several visits between two organisations bend
/// apart, and more than [`ARROWS_PER_PAIR`] are one arrow as thick as their
/// number, with `data-visits`), the best in class in the middle.
pub fn network(
    id: &str,
    title: &str,
    desc: &str,
    nodes: &[NetNode],
    edges: &[(usize, usize)],
    empty: &str,
) -> String {
    let at = layout(nodes, edges);
    let mut body = format!(
        r#"<defs><marker id="{id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0L10 5L0 10Z" fill="{MUTED}"/></marker></defs>"#,
        id = esc(id)
    );
    if nodes.is_empty() {
        let _ = write!(
            body,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{INK}">{}</text>"#,
            n(NET_W / 2.0),
            n(NET_H / 2.0),
            esc(empty)
        );
    }
    // One arrow per visit, up to [`ARROWS_PER_PAIR`] between the same two;
    // more are one arrow as thick as their number says (the page stays
    // readable, and small, when two organisations visit often).
    let mut directed: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for &edge in edges {
        *directed.entry(edge).or_default() += 1;
    }
    let arrows: Vec<(usize, usize, usize)> = directed
        .into_iter()
        .flat_map(|((from, to), count)| {
            if count <= ARROWS_PER_PAIR {
                vec![(from, to, 1); count]
            } else {
                vec![(from, to, count)]
            }
        })
        .collect();
    // Arrows between the same two organisations, counted to bend them apart.
    let mut pairs: BTreeMap<(usize, usize), (usize, usize)> = BTreeMap::new();
    for &(a, b, _) in &arrows {
        pairs.entry((a.min(b), a.max(b))).or_default().1 += 1;
    }
    body.push_str(r#"<g class="visits">"#);
    for &(from, to, visits) in &arrows {
        let (Some(&p1), Some(&p2)) = (at.get(from), at.get(to)) else {
            continue;
        };
        let slot = pairs.entry((from.min(to), from.max(to))).or_default();
        let (k, total) = (slot.0, slot.1);
        slot.0 += 1;
        let (dx, dy) = (p2.0 - p1.0, p2.1 - p1.1);
        let length = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / length, dy / length);
        // Same direction for both ways, so A→B and B→A do not overlap.
        let sign = if from < to { 1.0 } else { -1.0 };
        let bend = (k as f64 - (total as f64 - 1.0) / 2.0) * 18.0 * sign;
        let start = (
            p1.0 + ux * node_radius(nodes[from].standing),
            p1.1 + uy * node_radius(nodes[from].standing),
        );
        let end_gap = node_radius(nodes[to].standing) + 1.5;
        let end = (p2.0 - ux * end_gap, p2.1 - uy * end_gap);
        let control = (
            (start.0 + end.0) / 2.0 - uy * bend * 2.0,
            (start.1 + end.1) / 2.0 + ux * bend * 2.0,
        );
        let _ = write!(
            body,
            r#"<path class="visit" data-from="{from}" data-to="{to}" data-visits="{visits}" d="M{} {}Q{} {} {} {}" fill="none" stroke="{MUTED}" stroke-width="{}" marker-end="url(#{}-arrow)"><title>{} → {}{}</title></path>"#,
            n(start.0),
            n(start.1),
            n(control.0),
            n(control.1),
            n(end.0),
            n(end.1),
            n(1.3 + (visits as f64).log2()),
            esc(id),
            esc(&nodes[from].label),
            esc(&nodes[to].label),
            if visits > 1 {
                format!(" ({visits}×)")
            } else {
                String::new()
            },
        );
    }
    body.push_str("</g>");
    let (cx, _) = (NET_W / 2.0, NET_H / 2.0);
    for (i, node) in nodes.iter().enumerate() {
        let (x, y) = at[i];
        let r = node_radius(node.standing);
        let stroke = if node.standing == Standing::BestInClass {
            2.5
        } else {
            1.0
        };
        let ring = if node.named {
            String::new()
        } else {
            format!(
                r#"<circle cx="{}" cy="{}" r="{}" fill="none" stroke="{INK}" stroke-dasharray="3 2"/>"#,
                n(x),
                n(y),
                n(r + 4.0)
            )
        };
        // Where its arrows are not: a visitor's point inwards, so its name
        // goes outwards; a host's come from outside, so its name goes
        // across them (above a host at the side, beside one at the top or
        // bottom); in the very middle, under it.
        let (dx, dy) = (x - cx, y - NET_H / 2.0);
        let beside = if x >= cx {
            ("start", x + r + 5.0, y + 4.5)
        } else {
            ("end", x - r - 5.0, y + 4.5)
        };
        let (anchor, tx, ty) = if dx.abs() < 1.0 && dy.abs() < 1.0 {
            ("middle", x, y + r + 15.0)
        } else if node.standing != Standing::Visitor && dx.abs() > dy.abs() {
            ("middle", x, y - r - 6.0)
        } else {
            beside
        };
        let weight = if node.standing == Standing::BestInClass {
            r#" font-weight="bold""#
        } else {
            ""
        };
        let _ = write!(
            body,
            r#"<g class="node" data-node="{i}" data-standing="{}"><title>{}</title>{}{}<text x="{}" y="{}" text-anchor="{anchor}" fill="{INK}" stroke="white" stroke-width="3" paint-order="stroke"{weight}>{}</text></g>"#,
            match node.standing {
                Standing::BestInClass => "best",
                Standing::Host => "host",
                Standing::Visitor => "visitor",
            },
            esc(&node.summary),
            shape(node.kind, (x, y), r, stroke),
            ring,
            n(tx),
            n(ty),
            esc(&short(&node.label, 24)),
        );
    }
    frame(id, (NET_W, NET_H), title, desc, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_lengths_follow_the_values_and_text_is_escaped() {
        let rows = [
            Bar {
                label: "Cloud & <co>".into(),
                value: 30.0,
                text: "30".into(),
            },
            Bar {
                label: "Privacy".into(),
                value: 15.0,
                text: "15".into(),
            },
        ];
        let svg = bars("b", "Uren", "Uren per onderwerp", &rows, None);
        assert!(
            svg.contains(r#"data-value="30" x="190" y="6" width="340""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"data-value="15" x="190" y="34" width="170""#),
            "{svg}"
        );
        assert!(svg.contains("Cloud &amp; &lt;co&gt;"));
        assert!(!svg.contains("<co>"));
        let rates = bars("r", "t", "d", &rows[1..], Some(30.0));
        assert!(rates.contains(r#"width="170""#), "a fixed scale: {rates}");
    }

    #[test]
    fn an_arrow_per_visit_and_one_thick_arrow_for_many() {
        let node = |label: &str, standing| NetNode {
            label: label.into(),
            kind: OrganisationKind::Municipality,
            standing,
            named: true,
            summary: label.into(),
        };
        let nodes = [
            node("Zwolle", Standing::BestInClass),
            node("Ede", Standing::Visitor),
            node("Talis", Standing::Visitor),
        ];
        let mut edges = vec![(1, 0); 2];
        edges.extend(vec![(2, 0); 7]);
        let svg = network("n", "t", "d", &nodes, &edges, "");
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let arrows: Vec<_> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("visit"))
            .collect();
        let visits: Vec<&str> = arrows
            .iter()
            .map(|a| a.attribute("data-visits").unwrap())
            .collect();
        assert_eq!(visits, ["1", "1", "7"]);
        assert!(svg.contains("Talis → Zwolle (7×)"));
    }

    #[test]
    fn marks_differ_in_shape_by_kind_and_grow_with_level() {
        let kinds = [
            OrganisationKind::Municipality,
            OrganisationKind::HousingCorporation,
            OrganisationKind::Province,
            OrganisationKind::WaterBoard,
            OrganisationKind::Other,
        ];
        // The geometry without the colour: five different shapes.
        let drawn: std::collections::BTreeSet<String> = kinds
            .iter()
            .map(|k| {
                let mark = shape(*k, (10.0, 10.0), 5.0, 1.0);
                mark.split(" fill=").next().unwrap().to_string()
            })
            .collect();
        assert_eq!(drawn.len(), 5, "{drawn:?}");
        assert!(mark_radius(5) > mark_radius(1));
        // Amsterdam lies south-west of Groningen on the map too.
        let (ax, ay) = project(52.37, 4.90);
        let (gx, gy) = project(53.22, 6.62);
        assert!(ax < gx && ay > gy);
    }
}
