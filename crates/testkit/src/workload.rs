//! Deterministic workloads: accounts, genesis and frames of signed messages, generated from a
//! seed (no data files). Used by `switchyard bench`, the determinism property test of the
//! manager, the crash tests and the conformance runs.

use rayon::prelude::*;
use switchyard_global::ProverClient;
use switchyard_manager::Frame;
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_router::{BundleProposal, Domain, Key, UnsignedRequest};
use switchyard_state::ChangeSet;
use switchyard_token::{NativeGenesis, SignedRequest, TokenClient, TokenSpec};

use crate::rng::SplitMix64;

/// Network id of every generated message.
pub const NETWORK_ID: u32 = 0x5359_0001;

/// Native balance every generated account starts with.
pub const INITIAL_BALANCE: u128 = 1_000_000_000_000;

/// A generated workload: the genesis balances and the frames to execute after it.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The native token's genesis (balances of every account).
    pub genesis: NativeGenesis,
    /// Frames numbered from 1, each a list of (target, canonical bytes).
    pub frames: Vec<Frame>,
}

impl Workload {
    /// The genesis as the change set a manager commits as frame 0.
    pub fn genesis_changes(&self) -> Result<ChangeSet, switchyard_token::TokenError> {
        Ok(switchyard_token::genesis(&self.genesis)?
            .into_iter()
            .collect())
    }

    /// Total number of messages over all frames.
    pub fn messages(&self) -> usize {
        self.frames.iter().map(|f| f.messages.len()).sum()
    }
}

/// Parameters of the `transfers` workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferParams {
    /// Seed of every random choice.
    pub seed: u64,
    /// Accounts (besides the hot account); at least twice the frame size keeps the
    /// conflict-free workload free of conflicts.
    pub accounts: usize,
    /// Total messages.
    pub messages: usize,
    /// Messages per frame.
    pub frame_size: usize,
    /// Fraction of transfers, in parts per million, sent to the one hot account.
    pub conflict_ppm: u64,
}

fn clients(seed: u64, count: usize) -> Vec<TokenClient> {
    (0..count)
        .into_par_iter()
        .map(|i| {
            let mut rng = SplitMix64::new(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            TokenClient::new(SigningKey::from_bytes(&rng.bytes32()), NETWORK_ID, 1)
        })
        .collect()
}

fn genesis_for(clients: &[TokenClient], extra: &[Key]) -> NativeGenesis {
    let mut balances: Vec<(Key, u128)> = clients
        .iter()
        .map(|c| (c.public_key(), INITIAL_BALANCE))
        .collect();
    balances.extend(extra.iter().map(|k| (*k, INITIAL_BALANCE)));
    balances.sort();
    balances.dedup_by(|a, b| a.0 == b.0);
    NativeGenesis {
        balances,
        ..Default::default()
    }
}

/// Signed native-token transfers. In each frame every account sends at most once and, apart
/// from transfers to the hot account, receives at most once, so with `conflict_ppm = 0` no two
/// messages of a frame conflict; with 1 000 000 every transfer goes to the hot account.
pub fn transfers(params: TransferParams) -> Workload {
    let accounts = params.accounts.max(2);
    let mut clients = clients(params.seed, accounts);
    let hot = [0xAB; 32];
    let genesis = genesis_for(&clients, &[hot]);
    let mut rng = SplitMix64::new(params.seed);
    let frame_size = params.frame_size.max(1);

    // Choose (sender, recipient) for every message first, then sign in parallel per sender.
    let mut plan: Vec<(usize, usize, Key, u128)> = Vec::with_capacity(params.messages);
    let mut order: Vec<usize> = (0..accounts).collect();
    let mut frame = 0;
    while plan.len() < params.messages {
        shuffle(&mut order, &mut rng);
        let in_frame = frame_size
            .min(params.messages - plan.len())
            .min(accounts / 2);
        for pair in 0..in_frame {
            let sender = order.get(2 * pair).copied().unwrap_or(0);
            let recipient = order.get(2 * pair + 1).copied().unwrap_or(1);
            let to = if rng.chance_ppm(params.conflict_ppm) {
                hot
            } else {
                clients
                    .get(recipient)
                    .map(TokenClient::public_key)
                    .unwrap_or(hot)
            };
            plan.push((frame, sender, to, 1 + u128::from(rng.below(1_000))));
        }
        frame += 1;
    }
    // Sign: each sender's operations in plan order, so nonces follow.
    let mut by_sender: Vec<Vec<usize>> = vec![Vec::new(); accounts];
    for (index, (_, sender, _, _)) in plan.iter().enumerate() {
        if let Some(list) = by_sender.get_mut(*sender) {
            list.push(index);
        }
    }
    let signed: Vec<Vec<(usize, SignedRequest)>> = clients
        .par_iter_mut()
        .zip(by_sender.par_iter())
        .map(|(client, indices)| {
            indices
                .iter()
                .filter_map(|&i| {
                    plan.get(i)
                        .map(|(_, _, to, amount)| (i, client.transfer(NATIVE_TOKEN, *to, *amount)))
                })
                .collect()
        })
        .collect();
    let frames = place(Vec::new(), plan.iter().map(|(frame, ..)| *frame), signed);
    Workload { genesis, frames }
}

/// Puts requests signed per signer in parallel, each as `(index in the plan, request)`, into
/// the frames their plan entries name (`frame_of`, in plan order), after `frames` and in plan
/// order within each frame, adding the frames it needs.
fn place(
    mut frames: Vec<Frame>,
    frame_of: impl ExactSizeIterator<Item = usize>,
    signed: Vec<Vec<(usize, SignedRequest)>>,
) -> Vec<Frame> {
    let mut messages: Vec<Option<SignedRequest>> = vec![None; frame_of.len()];
    for (index, request) in signed.into_iter().flatten() {
        if let Some(slot) = messages.get_mut(index) {
            *slot = Some(request);
        }
    }
    for (frame, request) in frame_of.zip(messages) {
        while frames.len() <= frame {
            frames.push(Frame::new(frames.len() as u64 + 1).fee_recipient([0xFE; 32]));
        }
        if let (Some(request), Some(frame)) = (request, frames.get_mut(frame)) {
            let (target, bytes) = request.into_parts();
            frame.messages.push((target.0.to_vec(), bytes));
        }
    }
    frames
}

fn shuffle<T>(items: &mut [T], rng: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// Parameters of the `mixed` workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MixedParams {
    /// Seed of every random choice.
    pub seed: u64,
    /// Accounts taking part (few, so that messages conflict).
    pub accounts: usize,
    /// Total messages.
    pub messages: usize,
    /// Messages per frame.
    pub frame_size: usize,
    /// Whether to include malformed messages, bad signatures, replays and failing bundles.
    pub adversarial: bool,
}

/// A mix of deploys, mints, transfers of the native and deployed tokens, pending transfers
/// (create, accept, refund, also by the wrong party or at the wrong time), bundles (a deploy
/// with a mint of the new token; two transfers whose second overdraws, so the bundle fails),
/// prover operations (joins, and pauses, leaves and updates the registry mostly refuses),
/// and, when `adversarial`, malformed bytes, bad signatures and replays. Register the global
/// engine with the token engine to run it.
pub fn mixed(params: MixedParams) -> Workload {
    let accounts = params.accounts.max(2);
    let mut clients = clients(params.seed, accounts);
    let genesis = genesis_for(&clients, &[]);
    let mut rng = SplitMix64::new(params.seed.wrapping_add(1));
    let frame_size = params.frame_size.max(1);
    let frame_count = params.messages.div_ceil(frame_size).max(1);
    let mut tokens: Vec<(Domain, usize)> = Vec::new();
    let mut escrows: Vec<(Domain, Key, usize, usize, u64)> = Vec::new();
    let mut sent: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut frames = Vec::with_capacity(frame_count);
    for number in 1..=frame_count as u64 {
        let mut frame = Frame::new(number)
            .fee_recipient([0xFE; 32])
            .fee_multiplier(1 + rng.below(3));
        // Tokens deployed in this frame route only from the next frame on (DESIGN §3).
        let mut deployed: Vec<(Domain, usize)> = Vec::new();
        let budget = frame_size.min(params.messages.saturating_sub(frames.len() * frame_size));
        while frame.messages.len() < budget {
            let a = rng.below(accounts as u64) as usize;
            let b = (a + 1 + rng.below(accounts as u64 - 1) as usize) % accounts;
            let to = clients
                .get(b)
                .map(TokenClient::public_key)
                .unwrap_or_default();
            let Some(client) = clients.get_mut(a) else {
                break;
            };
            let choice = rng.below(if params.adversarial { 14 } else { 10 });
            let message: (Vec<u8>, Vec<u8>) = match choice {
                0 => {
                    let spec = TokenSpec::new("Bench", "BNC")
                        .mintable(true)
                        .mint_authority(client.public_key())
                        .max_supply(1_000_000)
                        .initial_supply(u128::from(rng.below(1_000)));
                    let (domain, request) = client.deploy(spec);
                    deployed.push((domain, a));
                    parts(request)
                }
                1 if !tokens.is_empty() => {
                    let (token, owner) = pick(&tokens, &mut rng);
                    // Sometimes by the wrong account: a failed mint.
                    let minter = if rng.below(4) == 0 { a } else { owner };
                    let amount = 1 + u128::from(rng.below(400_000));
                    match clients.get_mut(minter) {
                        Some(client) => parts(client.mint(token, to, amount)),
                        None => continue,
                    }
                }
                2 if !tokens.is_empty() => {
                    let (token, _) = pick(&tokens, &mut rng);
                    parts(client.transfer(token, to, 1 + u128::from(rng.below(300))))
                }
                3 => {
                    let expiry = number + rng.below(3);
                    let (id, request) = client.pending_create(
                        NATIVE_TOKEN,
                        to,
                        1 + u128::from(rng.below(5_000)),
                        expiry,
                    );
                    escrows.push((NATIVE_TOKEN, id, a, b, expiry));
                    parts(request)
                }
                4 if !escrows.is_empty() => {
                    let (token, id, sender, recipient, _) = pick(&escrows, &mut rng);
                    // The recipient accepts, or (a third of the time) the sender tries to.
                    let who = if rng.below(3) == 0 { sender } else { recipient };
                    match clients.get_mut(who) {
                        Some(client) => parts(client.pending_accept(token, id)),
                        None => continue,
                    }
                }
                5 if !escrows.is_empty() => {
                    let (token, id, sender, _, _) = pick(&escrows, &mut rng);
                    match clients.get_mut(sender) {
                        Some(client) => parts(client.pending_refund(token, id)),
                        None => continue,
                    }
                }
                6 => {
                    // A bundle: deploy a token, then mint it in the same bundle.
                    let spec = TokenSpec::new("Bundle", "BDL")
                        .mintable(true)
                        .mint_authority(client.public_key());
                    let (domain, deploy) = client.deploy(spec);
                    let mint = client.mint(domain, to, 1 + u128::from(rng.below(100)));
                    deployed.push((domain, a));
                    bundle(client, vec![deploy, mint])
                }
                7 => {
                    // A bundle whose second transfer overdraws: it fails as a whole.
                    let first = client.transfer(NATIVE_TOKEN, to, 10);
                    let second = client.transfer(NATIVE_TOKEN, to, INITIAL_BALANCE * 4);
                    bundle(client, vec![first, second])
                }
                10 => (NATIVE_TOKEN.0.to_vec(), garbage(&mut rng)),
                11 => {
                    // A bad signature: signed, then one byte of the message changed. The nonce
                    // stays unused, as the node would not have applied it.
                    let nonce = client.next_nonce();
                    let (target, mut bytes) = parts(client.transfer(NATIVE_TOKEN, to, 1));
                    client.set_next_nonce(nonce);
                    let at = bytes.len().saturating_sub(1 + rng.below(8) as usize);
                    if let Some(byte) = bytes.get_mut(at) {
                        *byte ^= 0x01;
                    }
                    (target, bytes)
                }
                8 | 9 => {
                    // A prover operation, signed with the same key and nonces: a join of one
                    // of four filters, or a pause, leave or delegate update, which the
                    // registry's state machine mostly refuses (a failed operation).
                    let mut prover = ProverClient::from_signer(client.signer().clone());
                    let filter = [rng.below(4) as u8; 32];
                    let request = match (choice, rng.below(3)) {
                        (8, _) => prover.join(&[filter], None),
                        (_, 0) => prover.pause(Some(filter)),
                        (_, 1) => prover.leave(&[filter]),
                        _ => prover.update(switchyard_router::Address::new(
                            switchyard_router::domains::NATIVE_TOKEN,
                            to,
                        )),
                    };
                    client.set_next_nonce(prover.next_nonce());
                    parts(request)
                }
                12 if !sent.is_empty() => sent
                    .get(rng.below(sent.len() as u64) as usize)
                    .cloned()
                    .unwrap_or_default(),
                13 => {
                    // A bad target: malformed, so the nonce stays unused.
                    let nonce = client.next_nonce();
                    let bytes = client.transfer(NATIVE_TOKEN, to, 1).to_bytes();
                    client.set_next_nonce(nonce);
                    (vec![1, 2, 3], bytes)
                }
                _ => parts(client.transfer(NATIVE_TOKEN, to, 1 + u128::from(rng.below(10_000)))),
            };
            sent.push(message.clone());
            frame.messages.push(message);
        }
        frames.push(frame);
        tokens.extend(deployed);
    }
    Workload { genesis, frames }
}

fn pick<T: Clone + Default>(items: &[T], rng: &mut SplitMix64) -> T {
    items
        .get(rng.below(items.len() as u64) as usize)
        .cloned()
        .unwrap_or_default()
}

fn parts(request: SignedRequest) -> (Vec<u8>, Vec<u8>) {
    let (target, bytes) = request.into_parts();
    (target.0.to_vec(), bytes)
}

/// A bundle of `requests`, all by `client`, each signed for the whole bundle.
fn bundle(client: &TokenClient, requests: Vec<SignedRequest>) -> (Vec<u8>, Vec<u8>) {
    let parts: Vec<UnsignedRequest> = requests.into_iter().map(UnsignedRequest::from).collect();
    let signed = BundleProposal::new(client.network_id(), parts, 0)
        .and_then(|proposal| {
            let signatures = client.sign_proposal(&proposal);
            proposal.assemble(signatures)
        })
        .map(|bundle| (bundle.target.0.to_vec(), bundle.to_bytes()));
    // The requests are never empty and all the client's: assembling cannot fail.
    signed.unwrap_or_default()
}

fn garbage(rng: &mut SplitMix64) -> Vec<u8> {
    let len = rng.below(64) as usize;
    let mut bytes = vec![0x00, 0x00, 0x03, 0x11];
    bytes.extend((0..len).map(|_| rng.next_u64() as u8));
    bytes
}

/// Parameters of the `hypergraph` workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HypergraphParams {
    /// Seed of every random choice.
    pub seed: u64,
    /// Writers, each with a hypergraph of its own; at least the frame size keeps the
    /// workload conflict-free (one message per writer per frame).
    pub writers: usize,
    /// Total messages after the deploys.
    pub messages: usize,
    /// Messages per frame.
    pub frame_size: usize,
}

/// Vertex and hyperedge adds from many writers across many hypergraphs. Frame 1 deploys one
/// hypergraph per writer (a warm-up frame for the bench); in each later frame every writer
/// sends at most one message to its own hypergraph: a vertex add (a 64 to 320-byte blob), or,
/// once it has two vertices from earlier frames, one time in three a hyperedge add over two
/// of them. No two messages of a frame touch the same record, so the frames run fully in
/// parallel; only the read of each hypergraph's metadata record is shared, and only by one
/// writer.
pub fn hypergraph(params: HypergraphParams) -> Workload {
    use switchyard_hypergraph::{HypergraphClient, HypergraphSpec};
    let frame_size = params.frame_size.max(1);
    let writers = params.writers.max(frame_size).max(1);
    let mut graph_clients: Vec<HypergraphClient> = clients(params.seed, writers)
        .into_iter()
        .map(|client| HypergraphClient::from_signer(client.into_signer()))
        .collect();
    let funded: Vec<Key> = graph_clients
        .iter()
        .map(HypergraphClient::public_key)
        .collect();
    let genesis = genesis_for(&[], &funded);
    let mut frames = vec![Frame::new(1).fee_recipient([0xFE; 32])];
    let mut domains: Vec<Domain> = Vec::with_capacity(writers);
    if let Some(first) = frames.first_mut() {
        for client in &mut graph_clients {
            let writer = client.public_key();
            let (domain, request) = client.deploy(HypergraphSpec::new().writer(writer));
            domains.push(domain);
            let (target, bytes) = request.into_parts();
            first.messages.push((target.0.to_vec(), bytes));
        }
    }
    // Plan every message (writer, what), then sign per writer in parallel, in plan order.
    #[derive(Clone)]
    enum Planned {
        Vertex { key: Key, len: usize },
        Edge { key: Key, members: [Key; 2] },
    }
    let mut rng = SplitMix64::new(params.seed.wrapping_add(7));
    let mut vertices: Vec<Vec<Key>> = vec![Vec::new(); writers];
    let mut plan: Vec<(usize, usize, Planned)> = Vec::with_capacity(params.messages);
    let mut order: Vec<usize> = (0..writers).collect();
    let mut frame = 1;
    while plan.len() < params.messages {
        shuffle(&mut order, &mut rng);
        let in_frame = frame_size.min(params.messages - plan.len());
        let mut added: Vec<(usize, Key)> = Vec::with_capacity(in_frame);
        for &writer in order.iter().take(in_frame) {
            let known = vertices.get(writer).map_or(0, Vec::len);
            let planned = if known >= 2 && rng.below(3) == 0 {
                let pick = |rng: &mut SplitMix64| {
                    vertices
                        .get(writer)
                        .and_then(|v| v.get(rng.below(known as u64) as usize))
                        .copied()
                        .unwrap_or_default()
                };
                let a = pick(&mut rng);
                let mut b = pick(&mut rng);
                if b == a {
                    b = vertices
                        .get(writer)
                        .and_then(|v| v.iter().find(|k| **k != a))
                        .copied()
                        .unwrap_or_default();
                }
                Planned::Edge {
                    key: rng.bytes32(),
                    members: [a, b],
                }
            } else {
                let key = rng.bytes32();
                added.push((writer, key));
                Planned::Vertex {
                    key,
                    len: 64 + rng.below(257) as usize,
                }
            };
            plan.push((frame, writer, planned));
        }
        // Vertices become usable as members from the next frame on.
        for (writer, key) in added {
            if let Some(list) = vertices.get_mut(writer) {
                list.push(key);
            }
        }
        frame += 1;
    }
    let mut by_writer: Vec<Vec<usize>> = vec![Vec::new(); writers];
    for (index, (_, writer, _)) in plan.iter().enumerate() {
        if let Some(list) = by_writer.get_mut(*writer) {
            list.push(index);
        }
    }
    let signed: Vec<Vec<(usize, SignedRequest)>> = graph_clients
        .par_iter_mut()
        .zip(domains.par_iter())
        .zip(by_writer.par_iter())
        .map(|((client, graph), indices)| {
            indices
                .iter()
                .filter_map(|&i| {
                    let (_, _, planned) = plan.get(i)?;
                    let request = match planned {
                        Planned::Vertex { key, len } => {
                            client.vertex_add(*graph, *key, vec![0x5A; *len])
                        }
                        Planned::Edge { key, members } => {
                            let members =
                                members.map(|m| switchyard_router::Address::new(*graph, m));
                            client.hyperedge_add(*graph, *key, &members)
                        }
                    };
                    Some((i, request))
                })
                .collect()
        })
        .collect();
    let frames = place(frames, plan.iter().map(|(frame, ..)| *frame), signed);
    Workload { genesis, frames }
}

/// Parameters of the `compute` workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeParams {
    /// Seed of every random choice.
    pub seed: u64,
    /// Apps, each with an owner that is its only executor; at least the frame size keeps the
    /// workload conflict-free.
    pub apps: usize,
    /// Total executions after the deploys.
    pub messages: usize,
    /// Messages per frame.
    pub frame_size: usize,
}

/// Counter and key-value executions across many apps. Frame 1 holds one bundle per app (deploy
/// the app, then the counter and key-value modules into it); in each later frame every owner
/// sends at most one execution to its own app: an `increment` of its counter (writes the counter
/// key, which it also reads) or, half the time, a `put` of a 32-byte value at a fresh key. No two
/// messages of a frame touch the same record.
pub fn compute(params: ComputeParams) -> Workload {
    use switchyard_compute::{AppSpec, ComputeClient, ExecuteSpec, examples};
    let frame_size = params.frame_size.max(1);
    let apps = params.apps.max(frame_size).max(1);
    let token_clients = clients(params.seed, apps);
    let funded: Vec<Key> = token_clients.iter().map(TokenClient::public_key).collect();
    let genesis = genesis_for(&[], &funded);
    let counter = examples::counter_module();
    let kv = examples::kv_module();
    // Frame 1: a bundle per app, signed by its owner for the whole bundle.
    let mut first = Frame::new(1).fee_recipient([0xFE; 32]);
    let mut owners: Vec<(ComputeClient, Domain, Key, Key)> = Vec::with_capacity(apps);
    for token_client in token_clients {
        let bundle_signer = token_client.into_signer();
        let mut client = ComputeClient::from_signer(bundle_signer.clone());
        let (app, deploy) = client.deploy(AppSpec::new("bench").max_fuel(1_000_000));
        let (counter_id, counter_code) = client.deploy_code(app, counter.clone());
        let (kv_id, kv_code) = client.deploy_code(app, kv.clone());
        let parts: Vec<UnsignedRequest> = [deploy, counter_code, kv_code]
            .into_iter()
            .map(UnsignedRequest::from)
            .collect();
        let bundled = BundleProposal::new(NETWORK_ID, parts, 0).and_then(|proposal| {
            let signatures = bundle_signer.sign_proposal(&proposal);
            proposal.assemble(signatures)
        });
        if let Ok(bundled) = bundled {
            let (target, bytes) = bundled.into_parts();
            first.messages.push((target.0.to_vec(), bytes));
        }
        owners.push((client, app, counter_id, kv_id));
    }
    // Later frames: plan (owner, kind, key), then sign per owner in parallel, in plan order.
    let mut rng = SplitMix64::new(params.seed.wrapping_add(11));
    let mut plan: Vec<(usize, usize, Option<Key>)> = Vec::with_capacity(params.messages);
    let mut order: Vec<usize> = (0..apps).collect();
    let mut frame = 1;
    while plan.len() < params.messages {
        shuffle(&mut order, &mut rng);
        let in_frame = frame_size.min(params.messages - plan.len());
        for &owner in order.iter().take(in_frame) {
            let put = (rng.below(2) == 0).then(|| rng.bytes32());
            plan.push((frame, owner, put));
        }
        frame += 1;
    }
    let mut by_owner: Vec<Vec<usize>> = vec![Vec::new(); apps];
    for (index, (_, owner, _)) in plan.iter().enumerate() {
        if let Some(list) = by_owner.get_mut(*owner) {
            list.push(index);
        }
    }
    let signed: Vec<Vec<(usize, SignedRequest)>> = owners
        .par_iter_mut()
        .zip(by_owner.par_iter())
        .map(|((client, app, counter_id, kv_id), indices)| {
            indices
                .iter()
                .filter_map(|&i| {
                    let (_, _, put) = plan.get(i)?;
                    let spec = match put {
                        // A written key may be read too: it is declared once, as a write.
                        None => ExecuteSpec::new(*counter_id, "increment")
                            .writes([examples::COUNTER_KEY]),
                        Some(key) => ExecuteSpec::new(*kv_id, "put")
                            .input(examples::kv_put_input(key, &[0xC0; 32]))
                            .writes([*key]),
                    };
                    Some((i, client.execute(*app, spec)))
                })
                .collect()
        })
        .collect();
    let frames = place(vec![first], plan.iter().map(|(frame, ..)| *frame), signed);
    Workload { genesis, frames }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_deterministic_and_sized() {
        let params = TransferParams {
            seed: 3,
            accounts: 40,
            messages: 50,
            frame_size: 20,
            conflict_ppm: 0,
        };
        let a = transfers(params);
        let b = transfers(params);
        assert_eq!(a.frames, b.frames);
        assert_eq!(a.messages(), 50);
        assert_eq!(a.frames.len(), 3);
        let mixed_params = MixedParams {
            seed: 4,
            accounts: 5,
            messages: 60,
            frame_size: 25,
            adversarial: true,
        };
        assert_eq!(mixed(mixed_params).frames, mixed(mixed_params).frames);
        assert_eq!(mixed(mixed_params).messages(), 60);
    }

    #[test]
    fn the_compute_workload_bundles_its_deploys_then_fills_frames() {
        let params = ComputeParams {
            seed: 3,
            apps: 6,
            messages: 20,
            frame_size: 6,
        };
        let a = compute(params);
        assert_eq!(a.frames, compute(params).frames);
        assert_eq!(a.frames[0].messages.len(), 6, "one bundle per app");
        assert_eq!(a.messages(), 6 + 20);
        assert_eq!(a.frames.len(), 1 + 4);
    }

    #[test]
    fn the_hypergraph_workload_deploys_first_then_fills_frames() {
        let params = HypergraphParams {
            seed: 9,
            writers: 10,
            messages: 45,
            frame_size: 10,
        };
        let a = hypergraph(params);
        assert_eq!(a.frames, hypergraph(params).frames);
        assert_eq!(a.frames[0].messages.len(), 10, "one deploy per writer");
        assert_eq!(a.messages(), 10 + 45);
        assert_eq!(a.frames.len(), 1 + 5);
        assert_eq!(a.genesis.balances.len(), 10);
    }
}
