//! Random sequences of transfers, mints and pending operations over a few accounts and two
//! tokens, through the manager's pipeline, checking conservation after every step.

use proptest::prelude::*;
use switchyard_router::{Domain, Key};
use switchyard_token::{TokenClient, TokenError, TokenSpec};

use crate::common::{Chain, Failure, NATIVE, client};

const GOLD_MAX: u128 = 400_000;
const GOLD_INITIAL: u128 = 100_000;

#[derive(Debug, Clone)]
enum Step {
    Transfer {
        gold: bool,
        from: usize,
        to: usize,
        amount: u128,
    },
    /// `by: None` is the mint authority.
    Mint {
        by: Option<usize>,
        to: usize,
        amount: u128,
    },
    Create {
        gold: bool,
        from: usize,
        to: usize,
        amount: u128,
        expiry_in: u64,
    },
    /// `by: None` is the escrow's rightful party (its recipient).
    Accept {
        escrow: usize,
        by: Option<usize>,
    },
    /// `by: None` is the escrow's rightful party (its sender).
    Refund {
        escrow: usize,
        by: Option<usize>,
    },
    EndFrame,
}

fn step() -> impl Strategy<Value = Step> {
    let who = || 0..4usize;
    let party = || prop_oneof![3 => Just(None), 1 => (0..4usize).prop_map(Some)];
    let amount = || prop_oneof![0u128..=50, 0u128..=300_000];
    prop_oneof![
        4 => (any::<bool>(), who(), who(), amount())
            .prop_map(|(gold, from, to, amount)| Step::Transfer { gold, from, to, amount }),
        1 => (party(), who(), amount()).prop_map(|(by, to, amount)| Step::Mint { by, to, amount }),
        2 => (any::<bool>(), who(), who(), amount(), 0..4u64)
            .prop_map(|(gold, from, to, amount, expiry_in)| Step::Create { gold, from, to, amount, expiry_in }),
        2 => (any::<usize>(), party()).prop_map(|(escrow, by)| Step::Accept { escrow, by }),
        2 => (any::<usize>(), party()).prop_map(|(escrow, by)| Step::Refund { escrow, by }),
        2 => Just(Step::EndFrame),
    ]
}

struct World {
    chain: Chain,
    clients: Vec<TokenClient>,
    keys: Vec<Key>,
    gold: Domain,
    /// Escrows created (some settled since): token, id, sender index, recipient index.
    escrows: Vec<(Domain, Key, usize, usize)>,
    /// Gold supply according to the model: initial plus successful mints.
    gold_supply: u128,
}

impl World {
    fn new() -> Self {
        let mut clients: Vec<TokenClient> = (1..=4).map(client).collect();
        let keys: Vec<Key> = clients.iter().map(TokenClient::public_key).collect();
        // The last account is poor: its fees soon become unpayable.
        let balances = [1_000_000, 1_000_000, 1_000_000, 3_000];
        let mut chain = Chain::new(&keys.iter().copied().zip(balances).collect::<Vec<_>>());
        let spec = TokenSpec::new("Gold", "GLD")
            .initial_supply(GOLD_INITIAL)
            .max_supply(GOLD_MAX)
            .mintable(true)
            .mint_authority(keys[1]);
        let (gold, op) = clients[0].deploy(spec);
        chain.submit(&op).unwrap();
        Self {
            chain,
            clients,
            keys,
            gold,
            escrows: Vec::new(),
            gold_supply: GOLD_INITIAL,
        }
    }

    fn run(&mut self, step: &Step) {
        // Resolve the escrow an accept or refund names, and who signs it.
        let escrow = match *step {
            Step::Accept { escrow, .. } | Step::Refund { escrow, .. } => match self.escrows.len() {
                0 => return,
                len => Some(escrow % len),
            },
            _ => None,
        };
        let signer = match *step {
            Step::EndFrame => {
                self.chain.end_frame();
                return;
            }
            Step::Transfer { from, .. } | Step::Create { from, .. } => from,
            Step::Mint { by, .. } => by.unwrap_or(1),
            Step::Accept { by, .. } => {
                by.unwrap_or_else(|| escrow.map_or(0, |i| self.escrows[i].3))
            }
            Step::Refund { by, .. } => {
                by.unwrap_or_else(|| escrow.map_or(0, |i| self.escrows[i].2))
            }
        };
        let signer_key = self.keys[signer];
        self.chain.sync(&mut self.clients[signer]);
        let frame = self.chain.frame;
        let keys = self.keys.clone();
        let token_of = |gold: bool| if gold { self.gold } else { NATIVE };
        let gold_domain = self.gold;
        let client = &mut self.clients[signer];
        let mut created = None;
        let (op, token, watched): (_, Domain, Vec<Key>) = match *step {
            Step::Transfer {
                gold, to, amount, ..
            } => {
                let token = token_of(gold);
                (
                    client.transfer(token, keys[to], amount),
                    token,
                    vec![signer_key, keys[to]],
                )
            }
            Step::Mint { to, amount, .. } => (
                client.mint(gold_domain, keys[to], amount),
                gold_domain,
                vec![keys[to]],
            ),
            Step::Create {
                gold,
                from,
                to,
                amount,
                expiry_in,
            } => {
                let token = token_of(gold);
                let (id, op) = client.pending_create(token, keys[to], amount, frame + expiry_in);
                created = Some((token, id, from, to));
                (op, token, vec![signer_key])
            }
            Step::Accept { .. } | Step::Refund { .. } => {
                let Some(&(token, id, _, _)) = escrow.and_then(|i| self.escrows.get(i)) else {
                    return;
                };
                let op = if matches!(step, Step::Accept { .. }) {
                    client.pending_accept(token, id)
                } else {
                    client.pending_refund(token, id)
                };
                (op, token, vec![signer_key])
            }
            Step::EndFrame => return,
        };

        let before = self.chain.state.clone();
        let balances_before: Vec<u128> = watched
            .iter()
            .map(|k| self.chain.balance(token, *k))
            .collect();
        let escrow_before = escrow
            .and_then(|i| self.escrows.get(i))
            .and_then(|(t, id, ..)| self.chain.escrow(*t, *id));
        match self.chain.submit(&op) {
            Ok(()) => {
                let fee_in = |key: &Key| {
                    if token == NATIVE && *key == signer_key {
                        self.chain.last_fee
                    } else {
                        0
                    }
                };
                let after: Vec<u128> = watched
                    .iter()
                    .map(|k| self.chain.balance(token, *k))
                    .collect();
                match *step {
                    Step::Transfer { amount, .. } => {
                        assert_eq!(after[0], balances_before[0] - amount - fee_in(&watched[0]));
                        assert_eq!(after[1], balances_before[1] + amount);
                    }
                    Step::Mint { amount, .. } => {
                        assert_eq!(after[0], balances_before[0] + amount);
                        self.gold_supply += amount;
                    }
                    Step::Create { amount, .. } => {
                        assert_eq!(after[0], balances_before[0] - amount - fee_in(&watched[0]));
                        let (t, id, from, to) = created.unwrap();
                        let stored = self.chain.escrow(t, id).unwrap();
                        assert_eq!(
                            (stored.amount, stored.sender, stored.recipient),
                            (amount, keys[from], keys[to])
                        );
                        // Only escrows that exist are worth settling later.
                        self.escrows.push((t, id, from, to));
                    }
                    Step::Accept { .. } | Step::Refund { .. } => {
                        let paid = escrow_before.expect("a settled escrow existed").amount;
                        assert_eq!(after[0], balances_before[0] + paid - fee_in(&watched[0]));
                        let (t, id, ..) = self.escrows[escrow.unwrap()];
                        assert_eq!(self.chain.escrow(t, id), None);
                    }
                    Step::EndFrame => {}
                }
            }
            Err(Failure::Apply(error)) => {
                assert!(
                    error.downcast_ref::<TokenError>().is_some(),
                    "apply failed outside the token rules: {error}"
                );
                self.chain.assert_only_fee_charged(&before, signer_key);
            }
            Err(Failure::Validate(error)) => {
                assert!(error.downcast_ref::<TokenError>().is_some(), "{error}");
                assert_eq!(self.chain.state, before);
            }
            Err(Failure::Settle(_)) => assert_eq!(self.chain.state, before),
            Err(other) => panic!("unexpected failure {other:?}"),
        }
    }

    fn check_invariants(&self) {
        let native = self.chain.info(NATIVE);
        let (balances, escrowed) = self.chain.totals(NATIVE);
        assert_eq!(native.supply, 3_003_000, "the native supply never changes");
        assert_eq!(
            native.supply,
            balances + escrowed + self.chain.fees_pending,
            "native conservation"
        );
        let gold = self.chain.info(self.gold);
        let (balances, escrowed) = self.chain.totals(self.gold);
        assert_eq!(gold.supply, balances + escrowed, "gold conservation");
        assert_eq!(
            gold.supply, self.gold_supply,
            "gold supply moves with mints only"
        );
        assert!(gold.supply <= GOLD_MAX);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn supplies_are_conserved(steps in proptest::collection::vec(step(), 1..40)) {
        let mut world = World::new();
        world.check_invariants();
        for step in &steps {
            world.run(step);
            world.check_invariants();
        }
        // Settle the last frame's fees too: then balances and escrows alone make up the supply.
        world.chain.end_frame();
        let (balances, escrowed) = world.chain.totals(NATIVE);
        prop_assert_eq!(balances + escrowed, world.chain.info(NATIVE).supply);
    }
}
