//! The goals, each stated by the section that measures it as a hidden Markdown line;
//! scripts/bench.sh gathers them into the table at the top of BENCHMARKS.md, so that every
//! figure sits next to its goal, and a missed one next to why and what would close it.

/// Prints one goal line: `<!-- goal | figure | goal | measured | met | note -->`.
pub fn report(figure: &str, goal: &str, measured: &str, met: bool, note: &str) {
    let clean = |s: &str| s.replace('|', "/").replace("-->", "->");
    println!(
        "<!-- goal | {} | {} | {} | {} | {} -->",
        clean(figure),
        clean(goal),
        clean(measured),
        if met { "yes" } else { "no" },
        clean(note)
    );
}
