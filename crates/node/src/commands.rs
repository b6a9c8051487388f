//! The CLI's client commands (`switchyard key|token|hypergraph|compute|prover|account|head|
//! receipt|status|watch|info`): each prints a human summary, or one JSON object with `--json`,
//! and fails with one line. The engine commands live in [`hypergraph`], [`compute`] and
//! [`prover`]; what they share ([`send`], the argument parsers of `parse`) lives here.

mod compute;
mod hypergraph;
mod parse;
mod prover;

pub use compute::{ComputeCommand, ExecArgs, InputArgs};
pub use hypergraph::HypergraphCommand;
pub use parse::BytesArgs;
pub use prover::{ProverCommand, StatusArg};

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::{
    FrameReceipt, MessageOutcome, MessageStatus, StatusResponse, TokenQuery, TokenQueryResponse,
    token_query, token_query_response,
};
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_router::{Domain, SignedRequest};
use switchyard_token::{TokenClient, TokenSpec};

use crate::NodeError;
use crate::client::{Client, Committed, DEFAULT_NODE};
use crate::keys::{generate_key, load_key, parse_account, parse_key_hex, write_key_file};

/// Options every client command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// The node's gRPC address.
    #[arg(long, global = true, env = "SWITCHYARD_NODE", default_value = DEFAULT_NODE)]
    pub node: String,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Return once the node admitted the message, without waiting for its frame.
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// Longest wait for a message's frame, in seconds.
    #[arg(long, global = true, default_value_t = 30)]
    pub timeout: u64,
}

/// `switchyard key ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum KeyCommand {
    /// Create a key file (hex secret, mode 0600) and print its public key.
    New {
        /// Where to write it.
        #[arg(long, default_value = "switchyard.key")]
        out: PathBuf,
    },
    /// Print the public key of a key file or dev key.
    Show {
        /// Key file, or dev:NAME (alice, bob, carol, dave).
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
    },
}

/// `switchyard token ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TokenCommand {
    /// Deploy a token; prints its domain.
    Deploy {
        /// Signing key: a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Ticker symbol.
        #[arg(long)]
        symbol: String,
        /// Decimal places.
        #[arg(long, default_value_t = 9)]
        decimals: u32,
        /// Units credited to the deployer.
        #[arg(long, default_value_t = 0)]
        supply: u128,
        /// Cap on the supply.
        #[arg(long)]
        max_supply: Option<u128>,
        /// The deployer may mint later.
        #[arg(long)]
        mintable: bool,
    },
    /// Transfer units to an account.
    Transfer {
        /// Signing key: a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// Recipient: 32 bytes hex, dev:NAME or a key file.
        #[arg(long)]
        to: String,
        /// Amount in the smallest unit.
        #[arg(long)]
        amount: u128,
        /// Token domain (hex) [default: the native token].
        #[arg(long)]
        token: Option<String>,
    },
    /// Mint units (the mint authority only).
    Mint {
        /// Signing key: a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// Token domain (hex).
        #[arg(long)]
        token: String,
        /// Recipient: 32 bytes hex, dev:NAME or a key file.
        #[arg(long)]
        to: String,
        /// Amount in the smallest unit.
        #[arg(long)]
        amount: u128,
    },
    /// An account's balance.
    Balance {
        /// Account: 32 bytes hex, dev:NAME or a key file.
        account: String,
        /// Token domain (hex) [default: the native token].
        #[arg(long)]
        token: Option<String>,
    },
    /// A token's configuration and supply.
    Info {
        /// Token domain (hex) [default: the native token].
        #[arg(long)]
        token: Option<String>,
    },
}

/// A client command.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ClientCommand {
    /// Key files.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The token engine.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The hypergraph engine: vertices and hyperedges.
    #[command(subcommand)]
    Hypergraph(HypergraphCommand),
    /// The compute engine: WebAssembly applications.
    #[command(subcommand)]
    Compute(ComputeCommand),
    /// The prover registry (the global engine).
    #[command(subcommand)]
    Prover(ProverCommand),
    /// A native account's balance and nonce.
    Account {
        /// Account: 32 bytes hex, dev:NAME or a key file.
        account: String,
    },
    /// The head of the last committed frame.
    Head,
    /// A committed frame's receipt.
    Receipt {
        /// Frame number.
        frame: u64,
    },
    /// A message's status by hash.
    Status {
        /// Message hash (hex).
        hash: String,
    },
    /// Stream heads as frames commit.
    Watch {
        /// Stop after this many heads.
        #[arg(long)]
        count: Option<u64>,
    },
    /// The node's network id, mode, engines and head.
    Info,
}

/// What a command prints.
#[derive(Debug)]
pub struct Output {
    /// The `--json` form.
    pub json: Value,
    /// The human form.
    pub text: String,
}

impl Output {
    /// An output from its two forms.
    pub(crate) fn new(text: impl Into<String>, json: Value) -> Self {
        Self {
            text: text.into(),
            json,
        }
    }

    fn print(&self, as_json: bool) {
        match as_json {
            true => println!("{}", self.json),
            false => println!("{}", self.text),
        }
    }
}

fn domain_arg(token: Option<&str>) -> Result<Domain, NodeError> {
    match token {
        None => Ok(NATIVE_TOKEN),
        Some(text) => parse_key_hex(text)
            .map(Domain)
            .map_err(|e| NodeError::Argument {
                name: "--token",
                reason: e,
            }),
    }
}

fn status_name(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Applied => "applied",
        MessageStatus::Failed => "failed",
        MessageStatus::Rejected => "rejected",
        MessageStatus::Malformed => "malformed",
        MessageStatus::Unspecified => "unspecified",
    }
}

fn outcome_json(outcome: &MessageOutcome) -> Value {
    json!({
        "index": outcome.index,
        "status": status_name(outcome.status()),
        "cost": outcome.cost,
        "fee": outcome.fee.map_or(0, u128::from).to_string(),
        "reason": outcome.reason,
        "message_hash": hex::encode(&outcome.message_hash),
        "results": outcome.results.iter().map(hex::encode).collect::<Vec<_>>(),
    })
}

fn status_json(hash: &[u8], status: &StatusResponse) -> Value {
    match status.state() {
        switchyard_proto::v1::status_response::State::Committed => json!({
            "hash": hex::encode(hash),
            "state": "committed",
            "frame": status.frame_number,
            "index": status.index,
            "outcome": status.outcome.as_ref().map(outcome_json),
        }),
        _ => json!({ "hash": hex::encode(hash), "state": "pending" }),
    }
}

fn receipt_json(receipt: &FrameReceipt) -> Value {
    json!({
        "frame": receipt.frame_number,
        "state_root": hex::encode(&receipt.state_root),
        "parent_state_root": hex::encode(&receipt.parent_state_root),
        "fee_multiplier": receipt.fee_multiplier,
        "fee_recipient": hex::encode(&receipt.fee_recipient),
        "total_fees": receipt.total_fees.map_or(0, u128::from).to_string(),
        "outcomes": receipt.outcomes.iter().map(outcome_json).collect::<Vec<_>>(),
    })
}

/// What [`send`] returns: the printed output and, unless `--no-wait`, the outcome.
#[derive(Debug)]
pub(crate) struct Sent {
    /// What the command prints.
    pub output: Output,
    /// The committed outcome; `None` with `--no-wait`.
    pub outcome: Option<MessageOutcome>,
}

/// Submits `request`, waits for its frame unless `--no-wait`, and describes it; a message
/// that did not apply is an error.
pub(crate) async fn send(
    client: &mut Client,
    args: &ClientArgs,
    what: &str,
    request: &SignedRequest,
    extra: Value,
) -> Result<Output, NodeError> {
    Ok(send_outcome(client, args, what, request, extra)
        .await?
        .output)
}

/// [`send`], keeping the outcome (for the results of the message's requests).
pub(crate) async fn send_outcome(
    client: &mut Client,
    args: &ClientArgs,
    what: &str,
    request: &SignedRequest,
    extra: Value,
) -> Result<Sent, NodeError> {
    let hash = client.submit(request).await?;
    if args.no_wait {
        let mut json = json!({ "hash": hex::encode(hash), "state": "pending" });
        merge(&mut json, extra);
        return Ok(Sent {
            output: Output {
                text: format!("{what}: submitted {}", hex::encode(hash)),
                json,
            },
            outcome: None,
        });
    }
    let committed: Committed = client.wait(hash, Duration::from_secs(args.timeout)).await?;
    let status = committed.message_status();
    let frame = committed.status.frame_number;
    let outcome = committed.status.outcome.clone().unwrap_or_default();
    if status != MessageStatus::Applied {
        return Err(NodeError::Answer(format!(
            "{what} {} in frame {frame}: {}",
            status_name(status),
            outcome.reason
        )));
    }
    let fee = outcome.fee.map_or(0, u128::from);
    let mut json = status_json(&hash, &committed.status);
    merge(&mut json, extra);
    Ok(Sent {
        output: Output {
            text: format!(
                "{what}: applied in frame {frame} (fee {fee}), message {}",
                hex::encode(hash)
            ),
            json,
        },
        outcome: Some(outcome),
    })
}

/// Adds the fields of `extra` to the object `into`.
pub(crate) fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(into), Value::Object(extra)) = (into, extra) {
        into.extend(extra);
    }
}

async fn token_query(
    client: &mut Client,
    token: Domain,
    query: token_query::Query,
) -> Result<token_query_response::Response, NodeError> {
    let bytes = TokenQuery { query: Some(query) }.to_canonical_bytes();
    let answer = client.query(&token.0, bytes).await?;
    TokenQueryResponse::from_canonical_bytes(&answer.response)?
        .response
        .ok_or_else(|| NodeError::Answer("an empty token query response".into()))
}

/// Runs a client command and prints its output.
pub async fn run(command: ClientCommand, args: &ClientArgs) -> Result<(), NodeError> {
    let output = execute(command, args).await?;
    output.print(args.json);
    Ok(())
}

async fn execute(command: ClientCommand, args: &ClientArgs) -> Result<Output, NodeError> {
    // Commands that need no node.
    match &command {
        ClientCommand::Key(KeyCommand::New { out }) => {
            let key = generate_key()?;
            write_key_file(out, &key)?;
            let public = hex::encode(key.verifying_key().to_bytes());
            return Ok(Output {
                text: format!("wrote {} (public key {public})", out.display()),
                json: json!({ "file": out, "public_key": public }),
            });
        }
        ClientCommand::Key(KeyCommand::Show { key }) => {
            let public = hex::encode(load_key(key)?.verifying_key().to_bytes());
            return Ok(Output {
                text: public.clone(),
                json: json!({ "public_key": public }),
            });
        }
        _ => {}
    }
    let mut client = Client::connect(&args.node).await?;
    match command {
        ClientCommand::Key(_) => Err(NodeError::Answer("unreachable key command".into())),
        ClientCommand::Token(token) => token_command(&mut client, args, token).await,
        ClientCommand::Hypergraph(command) => hypergraph::run(&mut client, args, command).await,
        ClientCommand::Compute(command) => compute::run(&mut client, args, command).await,
        ClientCommand::Prover(command) => prover::run(&mut client, args, command).await,
        ClientCommand::Account { account } => {
            let key = parse_account(&account)?;
            let answer = client.account(key).await?;
            let balance = answer.balance.map_or(0, u128::from);
            let pending = match answer.pending_nonce > answer.nonce {
                true => format!(" (pending up to {})", answer.pending_nonce),
                false => String::new(),
            };
            Ok(Output {
                text: format!("balance {balance}, nonce {}{pending}", answer.nonce),
                json: json!({
                    "account": hex::encode(key),
                    "balance": balance.to_string(),
                    "nonce": answer.nonce,
                    "pending_nonce": answer.pending_nonce,
                }),
            })
        }
        ClientCommand::Head => {
            let head = client.head().await?;
            Ok(Output {
                text: format!(
                    "frame {} root {}",
                    head.frame_number,
                    hex::encode(&head.state_root)
                ),
                json: json!({ "frame": head.frame_number, "state_root": hex::encode(&head.state_root) }),
            })
        }
        ClientCommand::Receipt { frame } => {
            let receipt = client.receipt(frame).await?;
            let json = receipt_json(&receipt);
            let mut text = format!(
                "frame {} root {} fees {}",
                receipt.frame_number,
                hex::encode(&receipt.state_root),
                receipt.total_fees.map_or(0, u128::from)
            );
            for outcome in &receipt.outcomes {
                text.push_str(&format!(
                    "\n  #{} {} {} cost {}{}",
                    outcome.index,
                    hex::encode(&outcome.message_hash),
                    status_name(outcome.status()),
                    outcome.cost,
                    match outcome.reason.is_empty() {
                        true => String::new(),
                        false => format!(": {}", outcome.reason),
                    }
                ));
            }
            Ok(Output { json, text })
        }
        ClientCommand::Status { hash } => {
            let hash = parse_key_hex(&hash).map_err(|e| NodeError::Argument {
                name: "HASH",
                reason: e,
            })?;
            let status = client.status(hash).await?;
            let json = status_json(&hash, &status);
            let text = match &status.outcome {
                Some(outcome) => format!(
                    "committed in frame {} at {}: {}{}",
                    status.frame_number,
                    status.index,
                    status_name(outcome.status()),
                    match outcome.reason.is_empty() {
                        true => String::new(),
                        false => format!(" ({})", outcome.reason),
                    }
                ),
                None => "pending".to_owned(),
            };
            Ok(Output { json, text })
        }
        ClientCommand::Watch { count } => {
            let mut stream = client.watch().await?;
            let mut seen = 0u64;
            let mut last = Value::Null;
            while count.is_none_or(|n| seen < n) {
                let Some(head) = stream.message().await.map_err(|status| NodeError::Rpc {
                    call: "watch",
                    status: Box::new(status),
                })?
                else {
                    break;
                };
                seen += 1;
                last = json!({ "frame": head.frame_number, "state_root": hex::encode(&head.state_root) });
                match args.json {
                    true => println!("{last}"),
                    false => println!(
                        "frame {} root {}",
                        head.frame_number,
                        hex::encode(&head.state_root)
                    ),
                }
            }
            Ok(Output {
                text: format!("watched {seen} heads"),
                json: json!({ "heads": seen, "last": last }),
            })
        }
        ClientCommand::Info => {
            let info = client.info().await?;
            let head = info.head.clone().unwrap_or_default();
            Ok(Output {
                text: format!(
                    "network {} ({} mode, version {}), engines {}, head frame {}",
                    info.network_id,
                    info.mode,
                    info.version,
                    info.engines.join(", "),
                    head.frame_number
                ),
                json: json!({
                    "network_id": info.network_id,
                    "mode": info.mode,
                    "version": info.version,
                    "engines": info.engines,
                    "frame": head.frame_number,
                    "fee_multiplier": info.fee_multiplier,
                }),
            })
        }
    }
}

async fn token_client(client: &mut Client, key: &str) -> Result<TokenClient, NodeError> {
    let key = load_key(key)?;
    let signer = client.signer(key.clone()).await?;
    Ok(TokenClient::new(
        key,
        signer.network_id(),
        signer.next_nonce(),
    ))
}

async fn token_command(
    client: &mut Client,
    args: &ClientArgs,
    command: TokenCommand,
) -> Result<Output, NodeError> {
    match command {
        TokenCommand::Deploy {
            key,
            name,
            symbol,
            decimals,
            supply,
            max_supply,
            mintable,
        } => {
            let mut token = token_client(client, &key).await?;
            let mut spec = TokenSpec::new(name, symbol)
                .decimals(decimals)
                .initial_supply(supply)
                .mintable(mintable);
            if mintable {
                spec = spec.mint_authority(token.public_key());
            }
            if let Some(max) = max_supply {
                spec = spec.max_supply(max);
            }
            let (domain, request) = token.deploy(spec);
            let mut output = send(
                client,
                args,
                "deploy",
                &request,
                json!({ "token": hex::encode(domain.0) }),
            )
            .await?;
            output.text = format!("token {}\n{}", hex::encode(domain.0), output.text);
            Ok(output)
        }
        TokenCommand::Transfer {
            key,
            to,
            amount,
            token,
        } => {
            let domain = domain_arg(token.as_deref())?;
            let to = parse_account(&to)?;
            let mut signer = token_client(client, &key).await?;
            let request = signer.transfer(domain, to, amount);
            send(
                client,
                args,
                "transfer",
                &request,
                json!({ "amount": amount.to_string() }),
            )
            .await
        }
        TokenCommand::Mint {
            key,
            token,
            to,
            amount,
        } => {
            let domain = domain_arg(Some(&token))?;
            let to = parse_account(&to)?;
            let mut signer = token_client(client, &key).await?;
            let request = signer.mint(domain, to, amount);
            send(
                client,
                args,
                "mint",
                &request,
                json!({ "amount": amount.to_string() }),
            )
            .await
        }
        TokenCommand::Balance { account, token } => {
            let domain = domain_arg(token.as_deref())?;
            let account = parse_account(&account)?;
            let query = token_query::Query::Balance(token_query::Balance {
                account: account.to_vec(),
            });
            match token_query(client, domain, query).await? {
                token_query_response::Response::Balance(balance) => {
                    let balance = u128::from(balance);
                    Ok(Output {
                        text: balance.to_string(),
                        json: json!({ "account": hex::encode(account), "token": hex::encode(domain.0), "balance": balance.to_string() }),
                    })
                }
                _ => Err(NodeError::Answer("not a balance".into())),
            }
        }
        TokenCommand::Info { token } => {
            let domain = domain_arg(token.as_deref())?;
            let query = token_query::Query::Info(token_query::Info {});
            match token_query(client, domain, query).await? {
                token_query_response::Response::Info(info) => {
                    let config = info.config.unwrap_or_default();
                    let supply = info.supply.map_or(0, u128::from);
                    Ok(Output {
                        text: format!(
                            "{} ({}), {} decimals, supply {supply}",
                            config.name, config.symbol, config.decimals
                        ),
                        json: json!({
                            "token": hex::encode(domain.0),
                            "name": config.name,
                            "symbol": config.symbol,
                            "decimals": config.decimals,
                            "supply": supply.to_string(),
                            "owner": hex::encode(&info.owner),
                            "mintable": config.mintable,
                        }),
                    })
                }
                _ => Err(NodeError::Answer("not token info".into())),
            }
        }
    }
}
