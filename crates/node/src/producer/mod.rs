//! The frame producer: one actor owns frame execution, fed by the bounded [`Mempool`] (producer
//! mode) or by frames an external orderer hands it through the execution API (follower mode),
//! both through one ordered work queue.

mod actor;
mod client;
mod mempool;

pub(crate) use actor::node_head;
pub use actor::{FrameProducer, Mode, ProducerConfig};
pub use client::ProducerHandle;
pub use mempool::{Entry, Mempool, MempoolLimits};
