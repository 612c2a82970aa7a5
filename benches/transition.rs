//! ns per transition of the supervised run loop on the counting stage, beside a bare async `match` loop doing the same
//! work (the limit). Run: `cargo bench --bench transition`; compare the two medians of the same run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "../tests/support/counting.rs"]
mod counting;

const TRANSITIONS: u64 = 10_000;

fn transitions(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let mut group = c.benchmark_group("transition");
    group.throughput(Throughput::Elements(TRANSITIONS));
    group.bench_with_input(BenchmarkId::new("supervised_loop", TRANSITIONS), &TRANSITIONS, |b, &n| {
        b.iter(|| rt.block_on(counting::count_supervised(std::hint::black_box(n))));
    });
    group.bench_with_input(BenchmarkId::new("supervised_loop_with_control", TRANSITIONS), &TRANSITIONS, |b, &n| {
        b.iter(|| rt.block_on(counting::count_supervised_with_control(std::hint::black_box(n))));
    });
    group.bench_with_input(BenchmarkId::new("bare_match_loop", TRANSITIONS), &TRANSITIONS, |b, &n| {
        b.iter(|| rt.block_on(counting::count_bare(std::hint::black_box(n))));
    });
    group.finish();
}

criterion_group!(benches, transitions);
criterion_main!(benches);
