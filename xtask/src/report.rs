//! The end-to-end bench's outputs: one table (Markdown, so that it can go
//! into the book as printed) and a hand-written SVG plot of throughput
//! against calls in flight.

use std::fmt::Write;

use crate::endtoend::{IN_FLIGHT, Measured, Scenario, Summary};

/// One scenario's result for each pairing of client and server.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cells<T> {
    /// Rust client, Rust server: the dialect they pick, spread-msgpack.
    pub(crate) spread: Option<T>,
    /// Rust client, Rust server, Banana's `pb` dialect (what a spread peer
    /// speaks with Twisted).
    pub(crate) spread_pb: Option<T>,
    /// Python client, Python server.
    pub(crate) twisted: Option<T>,
    pub(crate) rust_to_twisted: Option<T>,
    pub(crate) twisted_to_rust: Option<T>,
    /// The raw tokio floor (echo scenarios only).
    pub(crate) pingpong: Option<T>,
}

impl<T> Cells<T> {
    fn map<U>(&self, f: impl Fn(&T) -> U) -> Cells<U> {
        Cells {
            spread: self.spread.as_ref().map(&f),
            spread_pb: self.spread_pb.as_ref().map(&f),
            twisted: self.twisted.as_ref().map(&f),
            rust_to_twisted: self.rust_to_twisted.as_ref().map(&f),
            twisted_to_rust: self.twisted_to_rust.as_ref().map(&f),
            pingpong: self.pingpong.as_ref().map(&f),
        }
    }

    /// A progress line's worth: `spread X, Twisted Y, ...`.
    pub(crate) fn describe(&self, f: impl Fn(&T) -> String) -> String {
        let c = self.map(f);
        let show = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        format!(
            "spread {} (pb {}), Twisted {}, Rust->Twisted {}, Twisted->Rust {}, ping-pong {}",
            show(c.spread),
            show(c.spread_pb),
            show(c.twisted),
            show(c.rust_to_twisted),
            show(c.twisted_to_rust),
            show(c.pingpong)
        )
    }
}

/// A row: what it measures, its figures, and how many decimals they get.
struct Row {
    label: String,
    values: Cells<f64>,
    decimals: usize,
}

pub(crate) struct Table {
    rows: Vec<Row>,
}

impl Table {
    pub(crate) fn new(measured: &Measured) -> Table {
        let find = |wanted: Scenario| {
            measured
                .runs
                .iter()
                .find(|(s, _)| *s == wanted)
                .map(|(_, c)| c.clone())
                .unwrap_or_default()
        };
        let row = |label: &str, cells: &Cells<Summary>, f: fn(&Summary) -> f64, decimals| Row {
            label: label.into(),
            values: cells.map(f),
            decimals,
        };
        let sequential = find(Scenario::Echo(1));
        let mut rows = vec![
            row(
                "sequential echo p50, µs (lower is better)",
                &sequential,
                |s| s.p50_us,
                0,
            ),
            row(
                "sequential echo p99, µs (lower is better)",
                &sequential,
                |s| s.p99_us,
                0,
            ),
        ];
        for k in IN_FLIGHT {
            let label = format!("echo, {k} in flight, calls/s");
            rows.push(row(
                &label,
                &find(Scenario::Echo(k)),
                |s| s.calls_per_sec,
                0,
            ));
        }
        let rate = |s: &Summary| s.calls_per_sec;
        rows.push(row(
            "Copyable arg, 100 in flight, calls/s",
            &find(Scenario::Copy(100)),
            rate,
            0,
        ));
        rows.push(row(
            "Cacheable, 1 cache, updates/s",
            &find(Scenario::Cache(1)),
            rate,
            0,
        ));
        rows.push(row(
            "Cacheable, 10 caches, updates/s",
            &find(Scenario::Cache(10)),
            rate,
            0,
        ));
        for &(connections, spread, twisted) in &measured.idle_kib {
            rows.push(Row {
                label: format!(
                    "server memory per idle connection ({}), KiB (lower is better)",
                    number(connections as f64, 0)
                ),
                values: Cells {
                    spread,
                    twisted,
                    ..Cells::default()
                },
                decimals: 1,
            });
        }
        Table { rows }
    }

    /// The table as Markdown, columns padded so that it reads in a terminal.
    pub(crate) fn markdown(&self) -> String {
        let header = [
            "scenario",
            "spread (msgpack)",
            "spread (Banana pb)",
            "Twisted",
            "Rust client→Twisted server",
            "Twisted client→Rust server",
            "ping-pong",
            "spread/Twisted",
            "spread/ping-pong",
        ];
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
            _ => "-".into(),
        };
        let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
        for row in &self.rows {
            let v = &row.values;
            let cell = |x: Option<f64>| x.map_or("-".into(), |x| number(x, row.decimals));
            lines.push(vec![
                row.label.clone(),
                cell(v.spread),
                cell(v.spread_pb),
                cell(v.twisted),
                cell(v.rust_to_twisted),
                cell(v.twisted_to_rust),
                cell(v.pingpong),
                ratio(v.spread, v.twisted),
                ratio(v.spread, v.pingpong),
            ]);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                lines
                    .iter()
                    .map(|l| l[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for (n, line) in lines.iter().enumerate() {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, &w))| {
                    let pad = w - c.chars().count();
                    if i == 0 {
                        format!("{c}{}", " ".repeat(pad))
                    } else {
                        format!("{}{c}", " ".repeat(pad))
                    }
                })
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
            if n == 0 {
                let rules: Vec<String> = widths
                    .iter()
                    .enumerate()
                    .map(|(i, &w)| {
                        if i == 0 {
                            "-".repeat(w)
                        } else {
                            format!("{}:", "-".repeat(w - 1))
                        }
                    })
                    .collect();
                let _ = writeln!(out, "| {} |", rules.join(" | "));
            }
        }
        out
    }
}

/// `x` with `decimals` decimals and thousands separated by commas.
pub(crate) fn number(x: f64, decimals: usize) -> String {
    let text = format!("{x:.decimals$}");
    let (whole, fraction) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Which of a scenario's results a plotted line shows.
type Pick = fn(&Cells<Summary>) -> Option<Summary>;

/// Calls per second against calls in flight, log-log, for spread, Twisted
/// and the ping-pong floor: a self-contained SVG.
pub(crate) fn throughput_svg(measured: &Measured) -> String {
    let series: [(&str, &str, Pick); 4] = [
        (
            "spread, msgpack (Rust client, Rust server)",
            "#d6604d",
            |c| c.spread,
        ),
        (
            "spread, Banana pb (Rust client, Rust server)",
            "#f4a582",
            |c| c.spread_pb,
        ),
        (
            "Twisted 26.10 (Python client, Python server)",
            "#4393c3",
            |c| c.twisted,
        ),
        ("raw tokio ping-pong, 16 bytes", "#7f7f7f", |c| c.pingpong),
    ];
    let points: Vec<Vec<(usize, f64)>> = series
        .iter()
        .map(|(_, _, pick)| {
            IN_FLIGHT
                .iter()
                .filter_map(|&k| {
                    let (_, cells) = measured
                        .runs
                        .iter()
                        .find(|(s, _)| *s == Scenario::Echo(k))?;
                    Some((k, pick(cells)?.calls_per_sec)).filter(|(_, r)| *r > 0.0)
                })
                .collect()
        })
        .collect();
    let rates = points.iter().flatten().map(|p| p.1);
    let low = rates
        .clone()
        .fold(f64::INFINITY, f64::min)
        .max(1.0)
        .log10()
        .floor();
    let high = rates.fold(1.0, f64::max).log10().ceil().max(low + 1.0);
    let (w, h, left, right, top, bottom) = (720.0, 456.0, 80.0, 20.0, 40.0, 126.0);
    let x = |k: usize| left + (k as f64).log10() / 3.0 * (w - left - right);
    let y = |r: f64| top + (high - r.log10()) / (high - low) * (h - top - bottom);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">Echo calls per second against calls in flight (one connection, log scales)</text>"#,
        w / 2.0
    );
    for k in IN_FLIGHT {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{1:.1}" stroke="#ddd"/><text x="{0:.1}" y="{2:.1}" text-anchor="middle">{k}</text>"##,
            x(k),
            h - bottom,
            h - bottom + 16.0
        );
    }
    let mut decade = low;
    while decade <= high {
        let r = 10f64.powf(decade);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#ddd"/><text x="{2}" y="{3:.1}" text-anchor="end">{4}</text>"##,
            y(r),
            w - right,
            left - 6.0,
            y(r) + 4.0,
            number(r, 0)
        );
        decade += 1.0;
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">calls in flight</text>"#,
        (left + w - right) / 2.0,
        h - bottom + 34.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="18" y="{0}" text-anchor="middle" transform="rotate(-90 18 {0})">calls per second</text>"#,
        (top + h - bottom) / 2.0
    );
    for (i, ((name, colour, _), points)) in series.iter().zip(&points).enumerate() {
        let path: Vec<String> = points
            .iter()
            .map(|&(k, r)| format!("{:.1},{:.1}", x(k), y(r)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        );
        for &(k, r) in points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"><title>{name}: {k} in flight, {} calls/s</title></circle>"#,
                x(k),
                y(r),
                number(r, 0)
            );
        }
        let ly = h - bottom + 56.0 + 16.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{left}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="{colour}" stroke-width="2"/><text x="{2}" y="{3:.1}">{name}</text>"#,
            ly,
            left + 24.0,
            left + 30.0,
            ly + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(1234567.4, 0), "1,234,567");
        assert_eq!(number(999.0, 0), "999");
        assert_eq!(number(12.345, 1), "12.3");
        assert_eq!(number(-1234.0, 0), "-1,234");
    }

    #[test]
    fn table_and_plot() {
        let summary = |rate| Summary {
            calls_per_sec: rate,
            p50_us: 10.0,
            ..Summary::default()
        };
        let cells = Cells {
            spread: Some(summary(1000.0)),
            spread_pb: Some(summary(900.0)),
            twisted: Some(summary(100.0)),
            pingpong: Some(summary(2000.0)),
            ..Cells::default()
        };
        let measured = Measured {
            runs: IN_FLIGHT
                .iter()
                .map(|&k| (Scenario::Echo(k), cells.clone()))
                .collect(),
            idle_kib: vec![(1_000, Some(3.0), Some(12.0))],
            failures: Vec::new(),
        };
        let table = Table::new(&measured).markdown();
        assert!(table.contains("| echo, 100 in flight, calls/s"), "{table}");
        assert!(
            table.contains("10.00×") && table.contains("0.50×") && table.contains("0.25×"),
            "{table}"
        );
        assert!(table.contains("spread (msgpack)") && table.contains("spread (Banana pb)"));
        let svg = throughput_svg(&measured);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<circle").count(), 16);
    }
}
