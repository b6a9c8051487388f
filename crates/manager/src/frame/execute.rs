//! Phase 4, **execute**: runs the prepared messages, each on its own overlay over the
//! frame's view, in frame order on one worker or on the pool as the dependency graph allows.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use rayon::prelude::*;
use switchyard_router::{ExecutionContext, StateRead};
use switchyard_state::Snapshot;

use super::executor::FrameExecutor;
use super::message::{Ran, apply_message};
use super::messages::{FrameMessages, Slot};
use super::prepare::Prepared;
use super::run::{FrameRun, RunMode};
use super::schedule;
use super::view::FrameView;

impl FrameExecutor {
    /// Phase 4: applies the prepared messages, in frame order on one worker, else as the graph
    /// allows, each on its own overlay. Fills in each message's result (`None` for a refused
    /// one) and returns the frame's view, which holds its writes.
    ///
    /// The frame's view holds the writes that later messages of the frame may read: every
    /// write in the serial reference, only those of messages with dependents otherwise (see
    /// `Visibility`); the others are kept aside for the commit.
    pub(crate) fn execute_phase(
        &self,
        run: &FrameRun<'_>,
        messages: &mut FrameMessages<'_>,
        graph: &schedule::Graph,
        snapshot: Arc<dyn Snapshot>,
    ) -> FrameView {
        let slots = &messages.slots;
        // Both are sized for the declared writes (a slight overestimate: not every declared
        // write happens).
        let (mut published, mut kept) = (0, 0);
        for (index, slot) in slots.iter().enumerate() {
            let Ok(prepared) = slot else { continue };
            match !run.mode.uses_graph() || Visibility::of(graph, index).publish {
                true => published += prepared.access.writes.len(),
                false => kept += prepared.access.writes.len(),
            }
        }
        let view = FrameView::new(snapshot, published, kept, self.pool.current_num_threads());
        let results = match run.mode {
            RunMode::Parallel => self.run_parallel(&run.ctx, slots, graph, &view),
            RunMode::OneWorker | RunMode::Reference => slots
                .iter()
                .enumerate()
                .map(|(index, slot)| {
                    let visibility = match run.mode {
                        RunMode::Reference => Visibility::SERIAL,
                        _ => Visibility::of(graph, index),
                    };
                    slot.as_ref()
                        .ok()
                        .map(|prepared| self.run_one(&run.ctx, prepared, &view, visibility))
                })
                .collect(),
        };
        messages.results = results;
        view
    }

    /// Runs the prepared messages on the worker pool, each as soon as every earlier message
    /// it conflicts with has finished.
    fn run_parallel(
        &self,
        ctx: &ExecutionContext,
        slots: &[Slot],
        graph: &schedule::Graph,
        view: &FrameView,
    ) -> Vec<Option<Ran>> {
        let waits: Vec<std::sync::atomic::AtomicUsize> = graph
            .waits_for
            .iter()
            .map(|&n| std::sync::atomic::AtomicUsize::new(n))
            .collect();
        let results: Vec<Mutex<Option<Ran>>> = slots.iter().map(|_| Mutex::new(None)).collect();
        let shared = Shared {
            executor: self,
            ctx,
            slots,
            view,
            graph,
            waits: &waits,
            results: &results,
        };
        // Every message waiting for nothing starts, refused ones included: they apply
        // nothing, but may have dependents to release (refused after the graph was built).
        // The roots are split across workers in ranges (few steals); released dependents are
        // spawned one by one.
        let roots: Vec<usize> = graph
            .waits_for
            .iter()
            .enumerate()
            .filter(|(_, w)| **w == 0)
            .map(|(i, _)| i)
            .collect();
        self.pool.scope(|scope| {
            let shared = &shared;
            roots.par_iter().for_each(|&index| shared.run(index, scope));
        });
        results.into_iter().map(Mutex::into_inner).collect()
    }
}

/// What the worker tasks share.
struct Shared<'a> {
    executor: &'a FrameExecutor,
    ctx: &'a ExecutionContext,
    slots: &'a [Slot<'a>],
    view: &'a FrameView,
    graph: &'a schedule::Graph,
    waits: &'a [std::sync::atomic::AtomicUsize],
    results: &'a [Mutex<Option<Ran>>],
}

impl<'a> Shared<'a> {
    fn run(&'a self, index: usize, scope: &rayon::Scope<'a>) {
        if let Some(Ok(prepared)) = self.slots.get(index) {
            let visibility = Visibility::of(self.graph, index);
            let applied = self
                .executor
                .run_one(self.ctx, prepared, self.view, visibility);
            if let Some(result) = self.results.get(index) {
                *result.lock() = Some(applied);
            }
        }
        for &next in self
            .graph
            .dependents
            .get(index)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let released = self
                .waits
                .get(next)
                .is_some_and(|w| w.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1);
            if released {
                scope.spawn(move |scope| self.run(next, scope));
            }
        }
    }
}

impl FrameExecutor {
    /// Applies one prepared message on top of the frame's shared view (retrying temporary
    /// failures) and, when later messages may read them, publishes its writes to that view;
    /// otherwise they are only kept for the commit.
    fn run_one(
        &self,
        ctx: &ExecutionContext,
        prepared: &Prepared,
        view: &FrameView,
        visibility: Visibility,
    ) -> Ran {
        let started = Instant::now();
        let base: &dyn StateRead = match visibility.isolated {
            true => view.committed(),
            false => view,
        };
        let mut applied = self
            .retry
            .run(&self.cancel, || apply_message(ctx, prepared, base))
            .map_err(Box::new)?;
        if let Some(changes) = applied.changes.take() {
            match visibility.publish {
                true => view.absorb(changes),
                false => view.keep(changes, !visibility.isolated),
            }
        }
        applied.seconds = started.elapsed().as_secs_f64();
        Ok(applied)
    }
}

/// How a message's reads and writes relate to the rest of its frame, from the dependency graph.
#[derive(Debug, Clone, Copy)]
struct Visibility {
    /// No earlier message of the frame conflicts with it: every address it may read holds its
    /// committed value, so it reads the snapshot and skips the frame's view.
    isolated: bool,
    /// Some later message conflicts with it, so may read what it writes: its writes go to the
    /// frame's view. Otherwise no later message touches what it writes (a later access would
    /// be an edge from it), and its writes are only kept for the commit.
    publish: bool,
}

impl Visibility {
    /// The serial reference, which has no graph: every message reads and publishes through
    /// the frame's view.
    const SERIAL: Self = Self {
        isolated: false,
        publish: true,
    };

    fn of(graph: &schedule::Graph, index: usize) -> Self {
        Self {
            isolated: graph.waits_for.get(index) == Some(&0),
            publish: graph.dependents.get(index).is_some_and(|d| !d.is_empty()),
        }
    }
}
