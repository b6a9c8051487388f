//! `switchyard compute ...`: deploy and update applications, deploy WebAssembly code (a
//! module, or WAT compiled here), execute, stage, finalize and discard executions (signed with
//! [`ComputeClient`]), and read applications, code, staged executions and state through the
//! node's queries.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use switchyard_compute::{AppSpec, AppUpdate, ComputeClient, ExecuteSpec, ExecutionResult};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::prost::Message as _;
use switchyard_proto::v1::{
    ComputeQuery, ComputeQueryResponse, MessageOutcome, StagedExecution, compute_query,
    compute_query_response,
};
use switchyard_router::{Domain, Key};

use super::parse::{bytes_json, domain_arg, key_arg, show_bytes, stored_address};
use super::{ClientArgs, Output, send, send_outcome};
use crate::NodeError;
use crate::client::Client;
use crate::keys::{load_key, parse_account};

/// The input of an execution: text, hex or a file (at most one; none is empty).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InputArgs {
    /// The input as UTF-8 text.
    #[arg(long, group = "input_bytes")]
    pub input: Option<String>,
    /// The input as hex.
    #[arg(long, group = "input_bytes")]
    pub input_hex: Option<String>,
    /// The input: a file's bytes.
    #[arg(long, group = "input_bytes")]
    pub input_file: Option<PathBuf>,
}

impl InputArgs {
    fn bytes(&self) -> Result<Vec<u8>, NodeError> {
        if let Some(text) = &self.input {
            return Ok(text.as_bytes().to_vec());
        }
        if let Some(text) = &self.input_hex {
            let text = text.trim();
            return hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|e| {
                NodeError::Argument {
                    name: "--input-hex",
                    reason: format!("{text:?} is not hex: {e}"),
                }
            });
        }
        if let Some(path) = &self.input_file {
            return std::fs::read(path).map_err(|e| NodeError::Argument {
                name: "--input-file",
                reason: format!("reading {}: {e}", path.display()),
            });
        }
        Ok(Vec::new())
    }
}

/// What an execution runs: code, function, input, declared keys and fuel.
#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// Signing key: a key file, or dev:NAME.
    #[arg(long, env = "SWITCHYARD_KEY")]
    pub key: String,
    /// The application's domain (hex).
    #[arg(long)]
    pub app: String,
    /// The code id (hex, as code-deploy prints it).
    #[arg(long)]
    pub code: String,
    /// The exported function to call.
    #[arg(long)]
    pub function: String,
    /// The input.
    #[command(flatten)]
    pub input: InputArgs,
    /// A key of the app's state the function may read (repeat for more).
    #[arg(long = "read")]
    pub reads: Vec<String>,
    /// A key of the app's state the function may write and read (repeat for more).
    #[arg(long = "write")]
    pub writes: Vec<String>,
    /// Most fuel the execution may burn.
    #[arg(long, default_value_t = switchyard_compute::DEFAULT_FUEL_LIMIT)]
    pub fuel: u64,
}

/// `switchyard compute ...`
///
/// Keys of an app's state are 64 hex characters or `name:TEXT` (the BLAKE3 of TEXT).
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ComputeCommand {
    /// Deploy an application owned by the signer; prints its domain.
    Deploy {
        /// Signing key: a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// Its name (1 to 64 bytes).
        #[arg(long)]
        name: String,
        /// An account allowed to deploy code besides the owner (repeat for more).
        #[arg(long = "code-deployer")]
        code_deployers: Vec<String>,
        /// Most fuel one execution may ask for [default: the engine's ceiling].
        #[arg(long)]
        max_fuel: Option<u64>,
    },
    /// Change an application's code deployers, fuel ceiling or owner (owner only).
    Update {
        /// Signing key (the owner): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The application's domain (hex).
        #[arg(long)]
        app: String,
        /// The new code deployers (repeat for more; replaces the list).
        #[arg(long = "code-deployer")]
        code_deployers: Vec<String>,
        /// Remove every code deployer.
        #[arg(long, conflicts_with = "code_deployers")]
        clear_code_deployers: bool,
        /// A new fuel ceiling per execution.
        #[arg(long)]
        max_fuel: Option<u64>,
        /// Hand the application to this account.
        #[arg(long)]
        new_owner: Option<String>,
    },
    /// Deploy a WebAssembly module into an application; prints its code id.
    #[command(group(clap::ArgGroup::new("module").required(true)))]
    CodeDeploy {
        /// Signing key (the owner or a code deployer): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The application's domain (hex).
        #[arg(long)]
        app: String,
        /// A WebAssembly module (binary).
        #[arg(long, group = "module")]
        wasm: Option<PathBuf>,
        /// A WebAssembly text file, compiled here.
        #[arg(long, group = "module")]
        wat: Option<PathBuf>,
    },
    /// Execute a function and apply its writes; prints its output and the fuel it used.
    Exec(ExecArgs),
    /// Execute a function as a staged execution; prints its execution id.
    Stage(ExecArgs),
    /// Apply a staged execution's writes (its executor only); its keys are read first.
    Finalize {
        /// Signing key (the executor): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The application's domain (hex).
        #[arg(long)]
        app: String,
        /// The execution id (hex, as stage prints it).
        #[arg(long)]
        execution: String,
    },
    /// Delete a staged execution without applying it (its executor only).
    Discard {
        /// Signing key (the executor): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The application's domain (hex).
        #[arg(long)]
        app: String,
        /// The execution id (hex).
        #[arg(long)]
        execution: String,
    },
    /// An application's configuration.
    App {
        /// The application's domain (hex).
        #[arg(long)]
        app: String,
    },
    /// Deployed code's metadata.
    Code {
        /// The application's domain (hex).
        #[arg(long)]
        app: String,
        /// The code id (hex).
        code: String,
    },
    /// A staged execution.
    Staged {
        /// The application's domain (hex).
        #[arg(long)]
        app: String,
        /// The execution id (hex).
        execution: String,
    },
    /// A key of an application's state.
    Get {
        /// The application's domain (hex).
        #[arg(long)]
        app: String,
        /// The key: 64 hex characters, or name:TEXT.
        state_key: String,
    },
}

/// A client for `key` at its next nonce on the node's network.
async fn signer(client: &mut Client, key: &str) -> Result<ComputeClient, NodeError> {
    let key = load_key(key)?;
    Ok(ComputeClient::from_signer(client.signer(key).await?))
}

/// Asks `query` of application `app`.
async fn query(
    client: &mut Client,
    app: Domain,
    query: compute_query::Query,
) -> Result<compute_query_response::Response, NodeError> {
    let bytes = ComputeQuery { query: Some(query) }.to_canonical_bytes();
    let answer = client.query(&app.0, bytes).await?;
    ComputeQueryResponse::from_canonical_bytes(&answer.response)?
        .response
        .ok_or_else(|| NodeError::Answer("an empty compute query response".into()))
}

async fn staged(client: &mut Client, app: Domain, id: Key) -> Result<StagedExecution, NodeError> {
    let asked = compute_query::Query::Staged(compute_query::Staged {
        execution_id: id.to_vec(),
    });
    match query(client, app, asked).await? {
        compute_query_response::Response::Staged(record) => Ok(record),
        _ => Err(NodeError::Answer("not a staged execution".into())),
    }
}

/// Compiles or reads the module of a code deploy.
fn module(wasm: Option<&Path>, wat: Option<&Path>) -> Result<Vec<u8>, NodeError> {
    match (wasm, wat) {
        (Some(path), _) => std::fs::read(path).map_err(|e| NodeError::Argument {
            name: "--wasm",
            reason: format!("reading {}: {e}", path.display()),
        }),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| NodeError::Argument {
                name: "--wat",
                reason: format!("reading {}: {e}", path.display()),
            })?;
            wat::parse_str(&text).map_err(|mut e| {
                e.set_path(path);
                NodeError::Argument {
                    name: "--wat",
                    reason: one_line(&e.to_string()),
                }
            })
        }
        (None, None) => Err(NodeError::Argument {
            name: "--wasm",
            reason: "give --wasm FILE or --wat FILE".into(),
        }),
    }
}

/// A multi-line diagnostic (wat's, with a source excerpt) as one line: its message and
/// where it points.
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim);
    let first = lines.next().unwrap_or_default().to_owned();
    match lines.find_map(|l| l.strip_prefix("--> ")) {
        Some(place) => format!("{first} at {place}"),
        None => first,
    }
}

/// A value as the CLI shows it; an 8-byte value also as a little-endian `u64` (a counter).
fn show_value(bytes: &[u8]) -> String {
    match as_u64(bytes) {
        Some(n) => format!("{} (u64 {n})", hex::encode(bytes)),
        None => show_bytes(bytes),
    }
}

fn value_json(bytes: &[u8]) -> Value {
    let mut json = bytes_json(bytes);
    if let (Some(n), Value::Object(map)) = (as_u64(bytes), &mut json) {
        map.insert("u64".into(), json!(n));
    }
    json
}

fn as_u64(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_le_bytes)
}

/// The `ExecutionResult` of a committed execution or finalize.
fn execution_result(outcome: &MessageOutcome) -> Result<ExecutionResult, NodeError> {
    let bytes = outcome
        .results
        .first()
        .ok_or_else(|| NodeError::Answer("an execution without a result".into()))?;
    ExecutionResult::decode(bytes.as_slice())
        .map_err(|e| NodeError::Answer(format!("an execution result that does not decode: {e}")))
}

fn keys(name: &'static str, texts: &[String]) -> Result<Vec<Key>, NodeError> {
    texts.iter().map(|t| key_arg(name, t)).collect()
}

/// Reads an execution's result into `output`, when it committed.
fn with_result(mut output: Output, outcome: Option<&MessageOutcome>) -> Result<Output, NodeError> {
    let Some(outcome) = outcome else {
        return Ok(output);
    };
    let result = execution_result(outcome)?;
    output.text = format!(
        "output {}, fuel used {}\n{}",
        show_value(&result.output),
        result.fuel_used,
        output.text
    );
    super::merge(
        &mut output.json,
        json!({ "output": value_json(&result.output), "fuel_used": result.fuel_used }),
    );
    Ok(output)
}

fn staged_json(app: Domain, id: Key, record: &StagedExecution) -> Value {
    let key_list = |addresses: &[Vec<u8>]| {
        addresses
            .iter()
            .map(|a| match stored_address(a) {
                Ok(address) => hex::encode(address.key),
                Err(_) => hex::encode(a),
            })
            .collect::<Vec<_>>()
    };
    json!({
        "app": hex::encode(app.0),
        "execution": hex::encode(id),
        "executor": hex::encode(&record.executor),
        "code": hex::encode(&record.code_id),
        "function": record.function,
        "staged_frame": record.staged_frame,
        "expiry_frame": record.expiry_frame,
        "reads": key_list(&record.read_keys),
        "writes": key_list(&record.write_keys),
        "output": value_json(&record.output),
        "fuel_used": record.fuel_used,
    })
}

/// Runs a compute command.
pub(crate) async fn run(
    client: &mut Client,
    args: &ClientArgs,
    command: ComputeCommand,
) -> Result<Output, NodeError> {
    match command {
        ComputeCommand::Deploy {
            key,
            name,
            code_deployers,
            max_fuel,
        } => {
            let deployers = code_deployers
                .iter()
                .map(|d| parse_account(d))
                .collect::<Result<Vec<_>, _>>()?;
            let mut spec = AppSpec::new(name).code_deployers(deployers);
            if let Some(fuel) = max_fuel {
                spec = spec.max_fuel(fuel);
            }
            let (app, request) = signer(client, &key).await?.deploy(spec);
            let mut output = send(
                client,
                args,
                "deploy",
                &request,
                json!({ "app": hex::encode(app.0) }),
            )
            .await?;
            output.text = format!("app {app}\n{}", output.text);
            Ok(output)
        }
        ComputeCommand::Update {
            key,
            app,
            code_deployers,
            clear_code_deployers,
            max_fuel,
            new_owner,
        } => {
            let app = domain_arg("--app", &app)?;
            let mut update = AppUpdate::new();
            if !code_deployers.is_empty() {
                let deployers = code_deployers
                    .iter()
                    .map(|d| parse_account(d))
                    .collect::<Result<Vec<_>, _>>()?;
                update = update.code_deployers(deployers);
            }
            if clear_code_deployers {
                update = update.clear_code_deployers();
            }
            if let Some(fuel) = max_fuel {
                update = update.max_fuel(fuel);
            }
            if let Some(owner) = new_owner {
                update = update.new_owner(parse_account(&owner)?);
            }
            if update == AppUpdate::new() {
                return Err(NodeError::Argument {
                    name: "update",
                    reason: "nothing to change: give --code-deployer, --clear-code-deployers, --max-fuel or --new-owner".into(),
                });
            }
            let request = signer(client, &key).await?.update(app, update);
            send(
                client,
                args,
                "update",
                &request,
                json!({ "app": hex::encode(app.0) }),
            )
            .await
        }
        ComputeCommand::CodeDeploy {
            key,
            app,
            wasm,
            wat,
        } => {
            let app = domain_arg("--app", &app)?;
            let module = module(wasm.as_deref(), wat.as_deref())?;
            let size = module.len();
            let (code, request) = signer(client, &key).await?.deploy_code(app, module);
            let mut output = send(
                client,
                args,
                "code-deploy",
                &request,
                json!({ "app": hex::encode(app.0), "code": hex::encode(code), "bytes": size }),
            )
            .await?;
            output.text = format!("code {} ({size} bytes)\n{}", hex::encode(code), output.text);
            Ok(output)
        }
        ComputeCommand::Exec(exec) => {
            let app = domain_arg("--app", &exec.app)?;
            let spec = execute_spec(&exec)?;
            let request = signer(client, &exec.key).await?.execute(app, spec);
            let sent = send_outcome(
                client,
                args,
                "exec",
                &request,
                json!({ "app": hex::encode(app.0), "function": exec.function }),
            )
            .await?;
            with_result(sent.output, sent.outcome.as_ref())
        }
        ComputeCommand::Stage(exec) => {
            let app = domain_arg("--app", &exec.app)?;
            let spec = execute_spec(&exec)?;
            let (id, request) = signer(client, &exec.key).await?.stage(app, spec);
            let sent = send_outcome(
                client,
                args,
                "stage",
                &request,
                json!({ "app": hex::encode(app.0), "execution": hex::encode(id) }),
            )
            .await?;
            let mut output = with_result(sent.output, sent.outcome.as_ref())?;
            output.text = format!("execution {}\n{}", hex::encode(id), output.text);
            Ok(output)
        }
        ComputeCommand::Finalize {
            key,
            app,
            execution,
        } => {
            let app = domain_arg("--app", &app)?;
            let id = key_arg("--execution", &execution)?;
            let record = staged(client, app, id).await?;
            let keys_of = |addresses: &[Vec<u8>]| {
                addresses
                    .iter()
                    .map(|a| stored_address(a).map(|address| address.key))
                    .collect::<Result<Vec<_>, _>>()
            };
            let (reads, writes) = (keys_of(&record.read_keys)?, keys_of(&record.write_keys)?);
            let request = signer(client, &key)
                .await?
                .finalize(app, id, &reads, &writes);
            let sent = send_outcome(
                client,
                args,
                "finalize",
                &request,
                json!({ "app": hex::encode(app.0), "execution": hex::encode(id) }),
            )
            .await?;
            with_result(sent.output, sent.outcome.as_ref())
        }
        ComputeCommand::Discard {
            key,
            app,
            execution,
        } => {
            let app = domain_arg("--app", &app)?;
            let id = key_arg("--execution", &execution)?;
            let request = signer(client, &key).await?.discard(app, id);
            send(
                client,
                args,
                "discard",
                &request,
                json!({ "app": hex::encode(app.0), "execution": hex::encode(id) }),
            )
            .await
        }
        ComputeCommand::App { app } => {
            let app = domain_arg("--app", &app)?;
            match query(
                client,
                app,
                compute_query::Query::App(compute_query::App {}),
            )
            .await?
            {
                compute_query_response::Response::App(info) => {
                    let deployers: Vec<String> =
                        info.code_deployers.iter().map(hex::encode).collect();
                    Ok(Output::new(
                        format!(
                            "{:?}, owner {}, max fuel {}, code deployers: {}",
                            info.name,
                            hex::encode(&info.owner),
                            info.max_fuel,
                            match deployers.is_empty() {
                                true => "none".to_owned(),
                                false => deployers.join(", "),
                            }
                        ),
                        json!({
                            "app": hex::encode(app.0),
                            "name": info.name,
                            "owner": hex::encode(&info.owner),
                            "code_deployers": deployers,
                            "max_fuel": info.max_fuel,
                        }),
                    ))
                }
                _ => Err(NodeError::Answer("not an application".into())),
            }
        }
        ComputeCommand::Code { app, code } => {
            let app = domain_arg("--app", &app)?;
            let code = key_arg("CODE", &code)?;
            let asked = compute_query::Query::Code(compute_query::Code {
                code_id: code.to_vec(),
            });
            match query(client, app, asked).await? {
                compute_query_response::Response::Code(info) => Ok(Output::new(
                    format!(
                        "code {}: {} bytes, deployed by {} in frame {}, exports {}",
                        hex::encode(&info.code_id),
                        info.size,
                        hex::encode(&info.deployer),
                        info.deployed_frame,
                        info.exports.join(", ")
                    ),
                    json!({
                        "app": hex::encode(app.0),
                        "code": hex::encode(&info.code_id),
                        "size": info.size,
                        "deployer": hex::encode(&info.deployer),
                        "deployed_frame": info.deployed_frame,
                        "exports": info.exports,
                    }),
                )),
                _ => Err(NodeError::Answer("not code metadata".into())),
            }
        }
        ComputeCommand::Staged { app, execution } => {
            let app = domain_arg("--app", &app)?;
            let id = key_arg("EXECUTION", &execution)?;
            let record = staged(client, app, id).await?;
            let json = staged_json(app, id, &record);
            Ok(Output::new(
                format!(
                    "execution {} of {} by {}: staged in frame {}, expires after frame {}, {} write(s), output {}, fuel used {}",
                    hex::encode(id),
                    record.function,
                    hex::encode(&record.executor),
                    record.staged_frame,
                    record.expiry_frame,
                    record.writes.len(),
                    show_value(&record.output),
                    record.fuel_used
                ),
                json,
            ))
        }
        ComputeCommand::Get { app, state_key } => {
            let app = domain_arg("--app", &app)?;
            let key = key_arg("KEY", &state_key)?;
            let asked = compute_query::Query::State(compute_query::State { key: key.to_vec() });
            match query(client, app, asked).await? {
                compute_query_response::Response::State(value) => Ok(Output::new(
                    match value.found {
                        true => show_value(&value.value),
                        false => "(none)".to_owned(),
                    },
                    json!({
                        "app": hex::encode(app.0),
                        "key": hex::encode(key),
                        "found": value.found,
                        "value": value_json(&value.value),
                    }),
                )),
                _ => Err(NodeError::Answer("not a value".into())),
            }
        }
    }
}

/// The execution `exec` asks for.
fn execute_spec(exec: &ExecArgs) -> Result<ExecuteSpec, NodeError> {
    let code = key_arg("--code", &exec.code)?;
    Ok(ExecuteSpec::new(code, exec.function.clone())
        .input(exec.input.bytes()?)
        .reads(keys("--read", &exec.reads)?)
        .writes(keys("--write", &exec.writes)?)
        .fuel(exec.fuel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wat_errors_are_one_line_and_counters_read_as_numbers() {
        let error = wat::parse_str("(module (func (i32.bogus)))").unwrap_err();
        let line = one_line(&error.to_string());
        assert!(!line.contains('\n'), "{line}");
        assert_eq!(show_value(&2u64.to_le_bytes()), "0200000000000000 (u64 2)");
        assert_eq!(value_json(&2u64.to_le_bytes())["u64"], 2);
        assert_eq!(show_value(b"hi"), "6869 (\"hi\")");
    }
}
