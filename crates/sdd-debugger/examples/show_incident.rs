use sdd_debugger::incident::{analyze, Context, Corpus, Options};
use sdd_debugger::testing::{incident, Planted};
fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    for planted in Planted::ALL {
        if !format!("{planted:?}").eq_ignore_ascii_case(&which) {
            continue;
        }
        let g = incident(planted, 1, 60.0, 600);
        let mut c = Corpus::new(&["order_id".to_string()]);
        for e in &g.events {
            c.add(e);
        }
        let t = std::time::Instant::now();
        let r = analyze(&c, &Context::default(), &Options::default());
        eprintln!("{} events in {:?}", g.events.len(), t.elapsed());
        println!("{}", serde_json::to_string_pretty(&r).unwrap());
    }
}
