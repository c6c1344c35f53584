//! bench-charts: draws the PNG charts of a `bench/compare.sh` run.
//!
//! `bench-charts CHARTS.json OUT_DIR` reads the chart series that `bench/summarize.py
//! --charts` wrote (`{"charts": [{"file", "title", "x_label", "y_label", "log_y", "series":
//! [{"name", "points": [[x, y], ...]}]}]}`) and writes one PNG per chart into `OUT_DIR`.
//! Text is drawn with the DejaVu Sans font compiled into the binary, so no system font
//! library is needed.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use serde_json::Value;
use std::path::Path;

/// One line of a chart.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

/// One chart as summarize.py describes it.
struct Chart {
    file: String,
    title: String,
    x_label: String,
    y_label: String,
    log_y: bool,
    series: Vec<Series>,
}

/// Reads the charts out of summarize.py's JSON.
fn parse(document: &Value) -> Result<Vec<Chart>, String> {
    let text = |chart: &Value, key: &str| {
        chart[key]
            .as_str()
            .map(str::to_string)
            .ok_or(format!("a chart without {key}"))
    };
    let mut charts = Vec::new();
    for chart in document["charts"].as_array().ok_or("no charts array")? {
        let mut series = Vec::new();
        for line in chart["series"].as_array().ok_or("a chart without series")? {
            let points = line["points"]
                .as_array()
                .ok_or("a series without points")?
                .iter()
                .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
                .collect();
            series.push(Series {
                name: text(line, "name")?,
                points,
            });
        }
        charts.push(Chart {
            file: text(chart, "file")?,
            title: text(chart, "title")?,
            x_label: text(chart, "x_label")?,
            y_label: text(chart, "y_label")?,
            log_y: chart["log_y"].as_bool().unwrap_or(false),
            series,
        });
    }
    Ok(charts)
}

/// The colour and dash of the n-th series: one colour per server, solid then dashed.
fn style_of(index: usize, name: &str) -> (RGBColor, bool) {
    let colour = if name.starts_with("reverb-rs") {
        RGBColor(0xd9, 0x48, 0x1c)
    } else if name.starts_with("sockudo") {
        RGBColor(0x1f, 0x6f, 0xb4)
    } else {
        let (r, g, b) = Palette99::pick(index).to_rgba().rgb();
        RGBColor(r, g, b)
    };
    (colour, name.ends_with("p50"))
}

/// Draws one chart into `path`.
fn draw(chart: &Chart, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let points = chart.series.iter().flat_map(|s| s.points.iter());
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::MAX, 0.0f64);
    for &(x, y) in points {
        x_max = x_max.max(x);
        y_max = y_max.max(y);
        if y > 0.0 {
            y_min = y_min.min(y);
        }
    }
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_range = 0.0..x_max * 1.05;
    if chart.log_y {
        let low = if y_min == f64::MAX { 0.1 } else { y_min / 2.0 };
        plot(chart, &root, x_range, (low..y_max * 2.0).log_scale())?;
    } else {
        plot(chart, &root, x_range, 0.0..y_max * 1.1)?;
    }
    root.present()?;
    Ok(())
}

/// Draws the axes, the series and the legend on `root` with the given y coordinate.
fn plot<Y>(
    chart: &Chart,
    root: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    x_range: std::ops::Range<f64>,
    y_range: Y,
) -> Result<(), Box<dyn std::error::Error>>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut context = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(x_range, y_range)?;
    context
        .configure_mesh()
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(WHITE)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if *y >= 10.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.1}")
            }
        })
        .draw()?;
    for (index, series) in chart.series.iter().enumerate() {
        let (colour, dashed) = style_of(index, &series.name);
        let stroke = colour.stroke_width(if dashed { 2 } else { 3 });
        let points = series.points.clone();
        if dashed {
            context
                .draw_series(DashedLineSeries::new(points.clone(), 8, 6, stroke))?
                .label(&series.name)
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (9, 0)], stroke)
                        + PathElement::new(vec![(15, 0), (24, 0)], stroke)
                });
        } else {
            context
                .draw_series(LineSeries::new(points.clone(), stroke))?
                .label(&series.name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], stroke));
        }
        context.draw_series(
            points
                .into_iter()
                .map(|point| Circle::new(point, 4, colour.filled())),
        )?;
    }
    context
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: bench-charts CHARTS.json OUT_DIR");
        std::process::exit(2);
    }
    if register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_err() {
        eprintln!("bench-charts: the compiled-in font is unreadable");
        std::process::exit(1);
    }
    let outcome = std::fs::read_to_string(&args[1])
        .map_err(|e| format!("cannot read {}: {e}", args[1]))
        .and_then(|text| serde_json::from_str::<Value>(&text).map_err(|e| e.to_string()))
        .and_then(|document| parse(&document));
    let charts = match outcome {
        Ok(charts) => charts,
        Err(error) => {
            eprintln!("bench-charts: {error}");
            std::process::exit(1);
        }
    };
    let out = Path::new(&args[2]);
    if let Err(error) = std::fs::create_dir_all(out) {
        eprintln!("bench-charts: cannot create {}: {error}", out.display());
        std::process::exit(1);
    }
    for chart in &charts {
        let path = out.join(&chart.file);
        if let Err(error) = draw(chart, &path) {
            eprintln!("bench-charts: {}: {error}", path.display());
            std::process::exit(1);
        }
        println!("{}", path.display());
    }
}
