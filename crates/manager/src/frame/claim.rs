//! Jobs claimed in order by whichever worker is free.
//!
//! Rayon splits parallel loops into halves and steals halves; that balances well until the
//! end, when one worker may still run a large job while the others have nothing left. A
//! phase made of large jobs (verification batches) followed by many small ones (hashing) is
//! better run from one counter: workers claim jobs in their order, so the small jobs fill the
//! end of the phase, and every job still runs exactly once, whatever the number of workers.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `job(0)`, …, `job(jobs - 1)`, each once, on up to `workers` workers of the current
/// rayon pool (the calling thread is one of them). Jobs start in index order; they finish in
/// any order, so each job writes its own result.
pub(crate) fn run(jobs: usize, workers: usize, job: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    let work = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= jobs {
                return;
            }
            job(index);
        }
    };
    if workers <= 1 {
        work();
        return;
    }
    rayon::scope(|scope| {
        for _ in 1..workers.min(jobs) {
            scope.spawn(|_| work());
        }
        work();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn every_job_runs_once_whatever_the_number_of_workers() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        for workers in [1, 2, 3, 8] {
            for jobs in [0, 1, 2, 7, 100] {
                let ran = Mutex::new(Vec::new());
                pool.install(|| {
                    run(jobs, workers, |index| {
                        ran.lock().unwrap_or_else(|e| e.into_inner()).push(index);
                    });
                });
                let mut ran = ran.into_inner().unwrap_or_else(|e| e.into_inner());
                ran.sort_unstable();
                assert_eq!(
                    ran,
                    (0..jobs).collect::<Vec<_>>(),
                    "{jobs} jobs, {workers} workers"
                );
            }
        }
    }
}
