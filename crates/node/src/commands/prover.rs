//! `switchyard prover ...`: the prover registry of the global engine. Operations are signed
//! with [`ProverClient`] (every one costs 0; the nonce still counts); queries read statuses
//! as of the node's head frame, so windows that closed show as expired or left.

use serde_json::{Value, json};
use switchyard_global::ProverClient;
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::global_query_response::{self, FilterStatus};
use switchyard_proto::v1::{
    FrameHeader, GlobalQuery, GlobalQueryResponse, ProverStatus, global_query,
};
use switchyard_router::Key;
use switchyard_router::domains::GLOBAL;

use super::parse::{address_arg, key_arg, show_address, stored_address};
use super::{ClientArgs, Output, send};
use crate::NodeError;
use crate::client::Client;
use crate::keys::{load_key, parse_account};

/// A prover's status on a filter, as `--status` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusArg {
    /// Asked to join, not yet confirmed.
    Joining,
    /// Serving.
    Active,
    /// Paused.
    Paused,
    /// Asked to leave, not yet confirmed.
    Leaving,
    /// Left.
    Left,
    /// Withdrew a join.
    Rejected,
    /// Let a join lapse.
    Expired,
    /// Removed for equivocation.
    Kicked,
}

impl StatusArg {
    fn to_proto(self) -> ProverStatus {
        match self {
            StatusArg::Joining => ProverStatus::Joining,
            StatusArg::Active => ProverStatus::Active,
            StatusArg::Paused => ProverStatus::Paused,
            StatusArg::Leaving => ProverStatus::Leaving,
            StatusArg::Left => ProverStatus::Left,
            StatusArg::Rejected => ProverStatus::Rejected,
            StatusArg::Expired => ProverStatus::Expired,
            StatusArg::Kicked => ProverStatus::Kicked,
        }
    }
}

/// `switchyard prover ...`
///
/// Filters are 64 hex characters or `name:TEXT` (the BLAKE3 of TEXT); the dev network's
/// genesis makes `dev:alice` active on the filter `00..00`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ProverCommand {
    /// Ask to serve filters (carries the key's proof of possession).
    Join {
        /// Signing key (the prover): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// A filter to serve (repeat for more).
        #[arg(long = "filter", required = true)]
        filters: Vec<String>,
        /// Where rewards go: an address DOMAIN/KEY [default: the prover's own account].
        #[arg(long)]
        delegate: Option<String>,
    },
    /// Confirm a pending join or leave, once its window opened.
    Confirm {
        /// Signing key (the prover): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The filter [default: every filter whose window is open].
        #[arg(long)]
        filter: Option<String>,
    },
    /// Withdraw a pending join, once its window opened.
    Reject {
        /// Signing key (the prover): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The filter [default: every filter whose window is open].
        #[arg(long)]
        filter: Option<String>,
    },
    /// Ask to leave filters (then confirm).
    Leave {
        /// Signing key (the prover): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// A filter to leave (repeat for more) [default: every filter served].
        #[arg(long = "filter")]
        filters: Vec<String>,
    },
    /// Pause serving a filter.
    Pause {
        /// Signing key (the prover): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The filter [default: every active filter].
        #[arg(long)]
        filter: Option<String>,
    },
    /// Resume a paused filter.
    Resume {
        /// Signing key (the prover): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The filter [default: every paused filter].
        #[arg(long)]
        filter: Option<String>,
    },
    /// Send the prover's rewards to a new address.
    Update {
        /// Signing key (the prover): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The delegate address: DOMAIN/KEY, or 128 hex characters.
        #[arg(long)]
        delegate: String,
    },
    /// Kick a prover that signed two different headers for one frame.
    Kick {
        /// Signing key (a registered prover): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The prover to kick: 32 bytes hex, dev:NAME or a key file.
        #[arg(long)]
        prover: String,
        /// The first signed FrameHeader, as canonical bytes in hex.
        #[arg(long)]
        header_a: String,
        /// The second signed FrameHeader, as canonical bytes in hex.
        #[arg(long)]
        header_b: String,
    },
    /// A prover's status on every filter it joined.
    Show {
        /// The prover: 32 bytes hex, dev:NAME or a key file.
        prover: String,
    },
    /// The (prover, filter) pairs in a status.
    List {
        /// The status.
        #[arg(long, value_enum, default_value = "active")]
        status: StatusArg,
    },
    /// The provers of a filter.
    Filter {
        /// The filter: 64 hex characters, or name:TEXT.
        filter: String,
    },
    /// The registry's configuration (windows in frames, index bounds).
    Config,
}

/// A client for `key` at its next nonce on the node's network.
async fn signer(client: &mut Client, key: &str) -> Result<ProverClient, NodeError> {
    let key = load_key(key)?;
    Ok(ProverClient::from_signer(client.signer(key).await?))
}

/// Asks `query` of the registry, reading statuses as of the head frame.
async fn query(
    client: &mut Client,
    query: global_query::Query,
) -> Result<(u64, global_query_response::Response), NodeError> {
    let at_frame = client.head().await?.frame_number;
    let bytes = GlobalQuery {
        query: Some(query),
        at_frame,
    }
    .to_canonical_bytes();
    let answer = client.query(&GLOBAL.0, bytes).await?;
    let response = GlobalQueryResponse::from_canonical_bytes(&answer.response)?
        .response
        .ok_or_else(|| NodeError::Answer("an empty global query response".into()))?;
    Ok((at_frame, response))
}

fn filter_arg(name: &'static str, text: Option<&str>) -> Result<Option<Key>, NodeError> {
    text.map(|t| key_arg(name, t)).transpose()
}

fn header_arg(name: &'static str, text: &str) -> Result<FrameHeader, NodeError> {
    let text = text.trim();
    let bytes =
        hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|e| NodeError::Argument {
            name,
            reason: format!("not hex: {e}"),
        })?;
    FrameHeader::from_canonical_bytes(&bytes).map_err(|e| NodeError::Argument {
        name,
        reason: e.to_string(),
    })
}

/// A status's short name.
fn status_name(status: i32) -> &'static str {
    match ProverStatus::try_from(status).unwrap_or(ProverStatus::Unspecified) {
        ProverStatus::Unspecified => "none",
        ProverStatus::Joining => "joining",
        ProverStatus::Active => "active",
        ProverStatus::Paused => "paused",
        ProverStatus::Leaving => "leaving",
        ProverStatus::Left => "left",
        ProverStatus::Rejected => "rejected",
        ProverStatus::Expired => "expired",
        ProverStatus::Kicked => "kicked",
    }
}

fn filter_json(filter: &FilterStatus) -> Value {
    json!({
        "filter": hex::encode(&filter.filter),
        "status": status_name(filter.status),
        "stored_status": status_name(filter.stored_status),
        "since_frame": filter.since_frame,
    })
}

/// One line per (prover, filter) pair.
fn entries_output(at_frame: u64, entries: &[global_query_response::Entry], what: Value) -> Output {
    let mut lines = Vec::with_capacity(entries.len());
    let mut list = Vec::with_capacity(entries.len());
    for entry in entries {
        let filter = entry.filter.clone().unwrap_or_default();
        lines.push(format!(
            "{} filter {} {} since frame {}",
            hex::encode(&entry.prover),
            hex::encode(&filter.filter),
            status_name(filter.status),
            filter.since_frame
        ));
        let mut item = filter_json(&filter);
        super::merge(&mut item, json!({ "prover": hex::encode(&entry.prover) }));
        list.push(item);
    }
    let text = match lines.is_empty() {
        true => format!("none at frame {at_frame}"),
        false => lines.join("\n"),
    };
    let mut json = json!({ "at_frame": at_frame, "entries": list });
    super::merge(&mut json, what);
    Output::new(text, json)
}

/// Runs a prover command.
pub(crate) async fn run(
    client: &mut Client,
    args: &ClientArgs,
    command: ProverCommand,
) -> Result<Output, NodeError> {
    let request = match command {
        ProverCommand::Join {
            key,
            filters,
            delegate,
        } => {
            let filters = filters
                .iter()
                .map(|f| key_arg("--filter", f))
                .collect::<Result<Vec<_>, _>>()?;
            let delegate = delegate
                .as_deref()
                .map(|d| address_arg("--delegate", d, None))
                .transpose()?;
            ("join", signer(client, &key).await?.join(&filters, delegate))
        }
        ProverCommand::Confirm { key, filter } => {
            let filter = filter_arg("--filter", filter.as_deref())?;
            ("confirm", signer(client, &key).await?.confirm(filter))
        }
        ProverCommand::Reject { key, filter } => {
            let filter = filter_arg("--filter", filter.as_deref())?;
            ("reject", signer(client, &key).await?.reject(filter))
        }
        ProverCommand::Leave { key, filters } => {
            let filters = filters
                .iter()
                .map(|f| key_arg("--filter", f))
                .collect::<Result<Vec<_>, _>>()?;
            ("leave", signer(client, &key).await?.leave(&filters))
        }
        ProverCommand::Pause { key, filter } => {
            let filter = filter_arg("--filter", filter.as_deref())?;
            ("pause", signer(client, &key).await?.pause(filter))
        }
        ProverCommand::Resume { key, filter } => {
            let filter = filter_arg("--filter", filter.as_deref())?;
            ("resume", signer(client, &key).await?.resume(filter))
        }
        ProverCommand::Update { key, delegate } => {
            let delegate = address_arg("--delegate", &delegate, None)?;
            ("update", signer(client, &key).await?.update(delegate))
        }
        ProverCommand::Kick {
            key,
            prover,
            header_a,
            header_b,
        } => {
            let prover = parse_account(&prover)?;
            let a = header_arg("--header-a", &header_a)?;
            let b = header_arg("--header-b", &header_b)?;
            ("kick", signer(client, &key).await?.kick(prover, a, b))
        }
        ProverCommand::Show { prover } => {
            let key = parse_account(&prover)?;
            let asked = global_query::Query::Prover(global_query::Prover { key: key.to_vec() });
            return match query(client, asked).await? {
                (at_frame, global_query_response::Response::Prover(answer)) => {
                    let Some(info) = answer.prover else {
                        return Ok(Output::new(
                            format!("{} is not registered", hex::encode(key)),
                            json!({ "prover": hex::encode(key), "registered": false, "at_frame": at_frame }),
                        ));
                    };
                    let delegate = stored_address(&info.delegate_address)
                        .map(|a| show_address(&a))
                        .unwrap_or_else(|_| hex::encode(&info.delegate_address));
                    let mut text = format!(
                        "prover {}{} at frame {at_frame}, rewards to {delegate}",
                        hex::encode(&info.public_key),
                        match info.kicked {
                            true => " (kicked)",
                            false => "",
                        }
                    );
                    for filter in &info.filters {
                        text.push_str(&format!(
                            "\n  filter {} {} since frame {}",
                            hex::encode(&filter.filter),
                            status_name(filter.status),
                            filter.since_frame
                        ));
                    }
                    Ok(Output::new(
                        text,
                        json!({
                            "prover": hex::encode(&info.public_key),
                            "registered": true,
                            "at_frame": at_frame,
                            "delegate": delegate,
                            "kicked": info.kicked,
                            "filters": info.filters.iter().map(filter_json).collect::<Vec<_>>(),
                        }),
                    ))
                }
                _ => Err(NodeError::Answer("not a prover".into())),
            };
        }
        ProverCommand::List { status } => {
            let asked = global_query::Query::ByStatus(global_query::ByStatus {
                status: status.to_proto() as i32,
            });
            return match query(client, asked).await? {
                (at_frame, global_query_response::Response::Entries(list)) => {
                    let name = status_name(status.to_proto() as i32);
                    Ok(entries_output(
                        at_frame,
                        &list.entries,
                        json!({ "status": name }),
                    ))
                }
                _ => Err(NodeError::Answer("not a list of provers".into())),
            };
        }
        ProverCommand::Filter { filter } => {
            let filter = key_arg("FILTER", &filter)?;
            let asked = global_query::Query::ByFilter(global_query::ByFilter {
                filter: filter.to_vec(),
            });
            return match query(client, asked).await? {
                (at_frame, global_query_response::Response::Entries(list)) => Ok(entries_output(
                    at_frame,
                    &list.entries,
                    json!({ "filter": hex::encode(filter) }),
                )),
                _ => Err(NodeError::Answer("not a list of provers".into())),
            };
        }
        ProverCommand::Config => {
            let asked = global_query::Query::Config(global_query::Config {});
            return match query(client, asked).await? {
                (_, global_query_response::Response::Config(config)) => Ok(Output::new(
                    format!(
                        "confirm window frames {}..={}, resume window {} frames, at most {} entries per status and {} provers per filter",
                        config.confirm_min_delay,
                        config.confirm_max_delay,
                        config.resume_window,
                        config.max_status_entries,
                        config.max_filter_entries
                    ),
                    json!({
                        "confirm_min_delay": config.confirm_min_delay,
                        "confirm_max_delay": config.confirm_max_delay,
                        "resume_window": config.resume_window,
                        "max_status_entries": config.max_status_entries,
                        "max_filter_entries": config.max_filter_entries,
                    }),
                )),
                _ => Err(NodeError::Answer("not a registry configuration".into())),
            };
        }
    };
    let (what, request) = request;
    send(
        client,
        args,
        what,
        &request,
        json!({ "prover": hex::encode(request.signer) }),
    )
    .await
}
