//! Deterministic workloads: accounts, genesis and frames of signed messages, generated from a
//! seed (no data files). Used by `switchyard bench`, the determinism property test of the
//! manager, the crash tests and the conformance runs.

use rayon::prelude::*;
use switchyard_manager::Frame;
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::MessageBundle;
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_router::{Domain, Key};
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
    let mut messages: Vec<Option<SignedRequest>> = vec![None; plan.len()];
    for (index, request) in signed.into_iter().flatten() {
        if let Some(slot) = messages.get_mut(index) {
            *slot = Some(request);
        }
    }
    let mut frames: Vec<Frame> = Vec::new();
    for ((frame, ..), request) in plan.iter().zip(messages) {
        while frames.len() <= *frame {
            frames.push(Frame::new(frames.len() as u64 + 1).fee_recipient([0xFE; 32]));
        }
        if let (Some(request), Some(frame)) = (request, frames.get_mut(*frame)) {
            let (target, bytes) = request.into_parts();
            frame.messages.push((target.0.to_vec(), bytes));
        }
    }
    Workload { genesis, frames }
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
/// and, when `adversarial`, malformed bytes, bad signatures and replays.
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
                    bundle(vec![deploy, mint])
                }
                7 => {
                    // A bundle whose second transfer overdraws: it fails as a whole.
                    let first = client.transfer(NATIVE_TOKEN, to, 10);
                    let second = client.transfer(NATIVE_TOKEN, to, INITIAL_BALANCE * 4);
                    bundle(vec![first, second])
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

fn bundle(requests: Vec<SignedRequest>) -> (Vec<u8>, Vec<u8>) {
    let target = requests
        .first()
        .map(|r| r.target.0.to_vec())
        .unwrap_or_default();
    let bundle = MessageBundle {
        requests: requests.into_iter().map(|r| r.request).collect(),
        timestamp: 0,
    };
    (target, bundle.to_canonical_bytes())
}

fn garbage(rng: &mut SplitMix64) -> Vec<u8> {
    let len = rng.below(64) as usize;
    let mut bytes = vec![0x00, 0x00, 0x03, 0x11];
    bytes.extend((0..len).map(|_| rng.next_u64() as u8));
    bytes
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
}
