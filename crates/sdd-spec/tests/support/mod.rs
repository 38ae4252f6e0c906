//! What the spec core's integration tests share.

use std::path::Path;
use std::sync::Arc;

/// Ask `cache` for the spec and check that it is exactly what a fresh load of `dir` gives —
/// model and diagnostics — after whatever `step` changed; the cached model, for more checks.
pub fn cache_agrees_with_a_fresh_load(
    cache: &sdd_spec::SpecCache,
    dir: &Path,
    step: &str,
) -> Arc<sdd_spec::Loaded> {
    let cached = cache.load().unwrap();
    let fresh = sdd_spec::load_dir(dir).unwrap();
    assert_eq!(
        format!("{:?}", cached.spec),
        format!("{:?}", fresh.spec),
        "{step}: the cached model differs from a fresh load"
    );
    assert_eq!(
        format!("{:?}", cached.diagnostics),
        format!("{:?}", fresh.diagnostics),
        "{step}: the cached diagnostics differ from a fresh load"
    );
    cached
}
