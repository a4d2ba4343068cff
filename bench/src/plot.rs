//! SVG figures of the numbers the benches collect, next to BENCHMARKS.md. plotters' SVG backend
//! only: labels are `<text>` elements the viewer sets in its own sans-serif font, so no font
//! files (fontconfig, freetype) are read here.

use std::path::Path;

use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::RangedCoordusize;
use plotters::coord::Shift;
use plotters::prelude::*;

const FONT: &str = "sans-serif";
const ORANGE: RGBColor = RGBColor(230, 120, 0);
/// Line colours, distinct on white (matplotlib's first three).
const LINES: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Histograms of publish -> settled times in ms, one panel per `(title, samples)`.
pub fn latency(path: &Path, panels: &[(&str, &[u64])]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (450 * panels.len().max(1) as u32, 340)).into_drawing_area();
    root.fill(&WHITE)?;
    for (area, (title, samples)) in root
        .split_evenly((1, panels.len().max(1)))
        .iter()
        .zip(panels)
    {
        histogram(area, title, samples)?;
    }
    root.present()?;
    Ok(())
}

/// About 15 bars of equal width from the smallest sample to the largest.
fn histogram(area: &Area, title: &str, samples: &[u64]) -> anyhow::Result<()> {
    const BINS: u64 = 15;
    let (lo, hi) = match (samples.iter().min(), samples.iter().max()) {
        (Some(&lo), Some(&hi)) => (lo, hi),
        _ => (0, 1),
    };
    let width = (hi - lo).div_ceil(BINS).max(1);
    let mut counts = vec![0u32; BINS as usize + 1];
    for s in samples {
        counts[((s - lo) / width) as usize] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0) + 1;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{title} ({} tasks)", samples.len()), (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(45)
        .build_cartesian_2d(lo..lo + width * (BINS + 1), 0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("publish -> settled, ms")
        .y_desc("tasks")
        .x_labels(6)
        .label_style((FONT, 13))
        .draw()?;
    chart.draw_series(
        counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let x0 = lo + width * i as u64;
                Rectangle::new([(x0, 0), (x0 + width, c)], BLUE.mix(0.7).filled())
            }),
    )?;
    Ok(())
}

/// Horizontal bars of gas per message on a log axis, top to bottom in `rows` order, with the
/// cw20-base transfer and three times it as vertical lines.
pub fn gas(path: &Path, rows: &[(String, u64)], cw20_transfer: u64) -> anyhow::Result<()> {
    let n = rows.len();
    let root = SVGBackend::new(path, (1100, 90 + 22 * n as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let reference = cw20_transfer as f64;
    let low = (reference / 4.0).min(rows.iter().map(|r| r.1 as f64).fold(f64::MAX, f64::min));
    let high = rows
        .iter()
        .map(|r| r.1 as f64)
        .fold(reference * 3.0, f64::max)
        * 1.5;
    // Row i is drawn at segment n-1-i, so the first row is at the top.
    let label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) if *i < n => short(&rows[n - 1 - i].0),
        _ => String::new(),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption("Gas used per message (log scale)", (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(330)
        .build_cartesian_2d((low..high).log_scale(), segments(n))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&label)
        .x_label_formatter(&|&x| match x {
            x if x >= 1e6 => format!("{:.0}M", x / 1e6),
            x => format!("{:.0}k", x / 1e3),
        })
        .x_desc("gas used")
        .label_style((FONT, 12))
        .draw()?;
    chart.draw_series(
        Histogram::horizontal(&chart)
            .baseline(low)
            .margin(3)
            .style(BLUE.mix(0.7).filled())
            .data(
                rows.iter()
                    .enumerate()
                    .map(|(i, r)| (n - 1 - i, r.1 as f64)),
            ),
    )?;
    let across = |x: f64| [(x, SegmentValue::Exact(0)), (x, SegmentValue::Last)];
    chart
        .draw_series(LineSeries::new(across(reference), RED.stroke_width(2)))?
        .label(format!("cw20-base transfer ({cw20_transfer})"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .draw_series(DashedLineSeries::new(
            across(3.0 * reference),
            6,
            4,
            ORANGE.stroke_width(2),
        ))?
        .label("3 x cw20-base transfer (the goal)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], ORANGE.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// `count` categories, one segment each (plotters' segmented integer range is inclusive).
fn segments(count: usize) -> SegmentedCoord<RangedCoordusize> {
    (0..count.max(1) - 1).into_segmented()
}

/// A message's name without its parenthesized detail, at most 50 characters.
fn short(name: &str) -> String {
    let name = name.split(" (").next().unwrap_or(name);
    match name.char_indices().nth(50) {
        Some((at, _)) => format!("{}...", &name[..at]),
        None => name.to_string(),
    }
}

/// One line of SGEMM GFLOP/s per `(name, one figure per size)`, sizes as categories.
pub fn sgemm(path: &Path, sizes: &[u32], series: &[(&str, Vec<f64>)]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = series
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .fold(1.0, f64::max)
        * 1.15;
    let k = sizes.len();
    let mut chart = ChartBuilder::on(&root)
        .caption("SGEMM throughput", (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(segments(k), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(k)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if *i < k => format!("n = {}", sizes[*i]),
            _ => String::new(),
        })
        .x_desc("matrix size (n x n, f32)")
        .y_desc("GFLOP/s")
        .light_line_style(TRANSPARENT)
        .label_style((FONT, 13))
        .draw()?;
    for (index, (name, figures)) in series.iter().enumerate() {
        let color = LINES[index % LINES.len()];
        let points = figures
            .iter()
            .enumerate()
            .map(|(i, &g)| (SegmentValue::CenterOf(i), g));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)).point_size(4))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file's `<text>` elements' contents (the SVG backend puts each on its own line).
    fn svg_texts(path: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(80)]);
        assert!(text.trim_end().ends_with("</svg>"));
        assert!(text.contains("<rect") || text.contains("<polyline"));
        text.split("<text")
            .skip(1)
            .map(|t| {
                let inner = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
                inner.trim().replace("&gt;", ">")
            })
            .collect()
    }

    fn has(texts: &[String], label: &str) -> bool {
        texts.iter().any(|t| t == label)
    }

    #[test]
    fn figures_are_svg_with_text_labels() {
        let temp = tempfile::tempdir().unwrap();
        // PLOT_DIR=DIR keeps the figures for a look.
        let dir = std::env::var_os("PLOT_DIR").map_or(temp.path().to_owned(), Into::into);

        let path = dir.join("latency.svg");
        let fr: Vec<u64> = (0..50).map(|i| 800 + (i * 7) % 45).collect();
        let auction: Vec<u64> = (0..10).map(|i| 3480 + i * 5).collect();
        latency(
            &path,
            &[
                ("First Response", &fr),
                ("Auction", &auction),
                ("none", &[]),
            ],
        )
        .unwrap();
        let texts = svg_texts(&path);
        for label in [
            "First Response (50 tasks)",
            "Auction (10 tasks)",
            "none (0 tasks)",
        ] {
            assert!(has(&texts, label), "no label {label} in {texts:?}");
        }
        assert!(has(&texts, "publish -> settled, ms"), "{texts:?}");

        let path = dir.join("gas.svg");
        let rows = vec![
            ("PublishTask (1 KiB kernel)".to_string(), 315_775),
            ("Commit, sealed offer (price inside)".to_string(), 352_008),
            ("Reveal, SGEMM n=320 (Freivalds)".to_string(), 24_747_758),
        ];
        gas(&path, &rows, 130_000).unwrap();
        let texts = svg_texts(&path);
        for label in [
            "PublishTask",
            "Commit, sealed offer",
            "Reveal, SGEMM n=320",
            "cw20-base transfer (130000)",
            "gas used",
        ] {
            assert!(has(&texts, label), "no label {label} in {texts:?}");
        }

        let path = dir.join("sgemm.svg");
        let series = [
            ("OpenCL kernel", vec![54.07, 61.58, 48.6]),
            ("matrixmultiply", vec![60.69, 104.74, 188.99]),
        ];
        sgemm(&path, &[256, 512, 1024], &series).unwrap();
        let texts = svg_texts(&path);
        for label in [
            "n = 256",
            "n = 1024",
            "OpenCL kernel",
            "matrixmultiply",
            "GFLOP/s",
        ] {
            assert!(has(&texts, label), "no label {label} in {texts:?}");
        }
    }

    #[test]
    fn short_names() {
        assert_eq!(short("Commit, awardee"), "Commit, awardee");
        assert_eq!(
            short("Reveal, sealed offer (price) x"),
            "Reveal, sealed offer"
        );
        assert_eq!(short(&"x".repeat(60)).len(), 53);
    }
}
