//! `eyeriss-gen map`: the chosen mapping of each layer, with `--explain` the limit behind
//! each choice, as a table or JSON.

use std::process::ExitCode;

use anyhow::Result;
use indicatif::MultiProgress;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::mapper;
use eyeriss_gen::progress;

use super::{Target, load_config, plan_showing};

#[derive(clap::Args)]
pub struct MapArgs {
    #[command(flatten)]
    pub target: Target,
    /// Say which limit rules out each larger choice of every parameter.
    #[arg(long)]
    pub explain: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: MapArgs) -> Result<ExitCode> {
    let MapArgs {
        target: Target {
            config,
            sel,
            layers,
        },
        explain,
        json,
    } = a;
    let cfg = load_config(&config)?;
    let mut plans = Vec::new();
    let mut refused = Vec::new();
    let list = sel.load(layers.as_deref())?;
    let multi = MultiProgress::new();
    let all = progress::items(&multi, list.len() as u64, "layers mapped");
    for l in list {
        // With --explain, a layer that cannot run is reported, the others go on, and
        // the exit code says that one could not.
        let planned = plan_showing(&multi, &cfg, &l);
        all.inc(1);
        match planned {
            Ok(plan) => plans.push((l, plan)),
            Err(e) if explain => refused.push((l.name, e.to_string())),
            Err(e) => return Err(e.into()),
        }
    }
    all.finish_and_clear();
    if json {
        let mut v: Vec<_> = plans
            .iter()
            .map(|(l, p)| {
                let mut o = serde_json::json!({"layer": l.name, "plan": p});
                if explain {
                    o["why_not_larger"] = mapper::explain(&cfg, l, p)
                        .into_iter()
                        .map(|(what, why)| serde_json::json!({"choice": what, "why": why}))
                        .collect();
                }
                o
            })
            .collect();
        v.extend(
            refused
                .iter()
                .map(|(l, e)| serde_json::json!({"layer": l, "cannot_run": e})),
        );
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for (l, e) in &refused {
            println!("{l}: cannot run: {e}");
        }
        print_plans(&cfg, &plans);
        println!(
            "GLB banks of the largest pass ({} words each):",
            cfg.glb.bank_words
        );
        for (l, p) in &plans {
            let show =
                |r: Option<(u64, u64)>| r.map_or("-".to_string(), |(a, b)| format!("{a}-{b}"));
            let [ps, ifm, fil] = p.glb.banks(cfg.glb.bank_words as u64);
            println!(
                "  {:<10} psums {:>6} words in banks {:<7} ifmap rows {:>6} in {:<7} filters {:>6} in {}",
                l.name,
                p.glb.psum_words,
                show(ps),
                p.glb.ifmap_words,
                show(ifm),
                p.glb.filter_words,
                show(fil)
            );
        }
        if explain {
            for (l, p) in &plans {
                println!("{}: why not larger", l.name);
                for (what, why) in mapper::explain(&cfg, l, p) {
                    println!("  {what:<12} {why}");
                }
            }
        }
    }
    if !refused.is_empty() {
        eprintln!(
            "error: {} of {} layers cannot run on '{}': {}",
            refused.len(),
            refused.len() + plans.len(),
            cfg.name,
            refused
                .iter()
                .map(|(l, _)| l.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_plans(cfg: &ArchConfig, plans: &[(ConvLayer, mapper::Plan)]) {
    println!(
        "{} x {} PEs, GLB {} words ('{}')",
        cfg.array.rows,
        cfg.array.cols,
        cfg.glb_words(),
        cfg.name
    );
    println!(
        "{:<10} {:>3} {:>3} {:>3} {:>3} {:>3} {:>3} {:>3} {:>4} {:>7} {:>3} {:>9} {:>12} {:>12} {:>6}",
        "layer",
        "n",
        "p",
        "q",
        "e",
        "r",
        "t",
        "m",
        "PEs",
        "passes",
        "buf",
        "GLB words",
        "predicted",
        "ideal",
        "ratio"
    );
    for (l, p) in plans {
        let m = p.mapping;
        let t = p.active_pes / (m.ew * m.vc * m.rh).max(1);
        println!(
            "{:<10} {:>3} {:>3} {:>3} {:>3} {:>3} {:>3} {:>3} {:>4} {:>7} {:>3} {:>9} {:>12} {:>12} {:>6.2}",
            l.name,
            m.nb,
            m.p,
            m.q,
            m.ew,
            m.vc,
            t,
            t * m.p,
            p.active_pes,
            p.passes,
            mapper::buffers(&m),
            p.glb_words,
            p.predicted_cycles,
            p.ideal_cycles,
            p.predicted_cycles as f64 / p.ideal_cycles.max(1) as f64
        );
    }
}
