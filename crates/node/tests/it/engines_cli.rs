//! The engine commands of the CLI (`switchyard hypergraph|compute|prover ...`) against a dev
//! node on loopback: each engine's main path, with `--json` output read back, and a refusal
//! as one line on stderr with a non-zero exit.

use serde_json::Value;
use switchyard_node::genesis::DEV_FILTER;
use switchyard_node::keys::dev_key;

use crate::node_common::{NodeProcess, cli};

/// Runs `args` with `--json` and returns the JSON it printed; fails the test on an error.
fn json(node: &NodeProcess, args: &[&str]) -> Value {
    let args = [&["--json"], args].concat();
    let (ok, stdout, stderr) = cli(&node.grpc, &args);
    assert!(ok, "`switchyard {}` failed: {stderr}", args.join(" "));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "`switchyard {}` printed no JSON ({e}): {stdout}",
            args.join(" ")
        )
    })
}

/// Runs `args`, expects a refusal, and returns its one line on stderr.
fn refused(node: &NodeProcess, args: &[&str]) -> String {
    let (ok, stdout, stderr) = cli(&node.grpc, args);
    assert!(!ok, "`switchyard {}` succeeded: {stdout}", args.join(" "));
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("switchyard: "), "{stderr}");
    stderr
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

#[test]
fn hypergraph_commands_build_a_graph_and_a_held_vertex_stays() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path(), &[]);
    let deployed = json(&node, &["hypergraph", "deploy", "--key", "dev:alice"]);
    assert_eq!(deployed["state"], "committed", "{deployed}");
    let graph = text(&deployed["graph"]).to_owned();
    for (vertex, data) in [("name:a", "first"), ("name:b", "second")] {
        let added = json(
            &node,
            &[
                "hypergraph",
                "vertex-add",
                "--key",
                "dev:alice",
                "--graph",
                &graph,
                "--vertex",
                vertex,
                "--data",
                data,
            ],
        );
        assert_eq!(added["outcome"]["status"], "applied", "{added}");
    }
    let edge = json(
        &node,
        &[
            "hypergraph",
            "edge-add",
            "--key",
            "dev:alice",
            "--graph",
            &graph,
            "--edge",
            "name:e",
            "--member",
            "name:a",
            "--member",
            "name:b",
        ],
    );
    let edge_address = text(&edge["edge"]).to_owned();
    let edge_key = hex::encode(blake3::hash(b"e").as_bytes());
    assert_eq!(edge_address, format!("{graph}/{edge_key}"));

    let of_a = json(
        &node,
        &["hypergraph", "edges-of", "--graph", &graph, "name:a"],
    );
    assert_eq!(of_a["edges"], serde_json::json!([edge_address]), "{of_a}");
    let members = json(&node, &["hypergraph", "edge", "--graph", &graph, "name:e"]);
    assert_eq!(members["members"].as_array().unwrap().len(), 2, "{members}");
    let vertex = json(
        &node,
        &["hypergraph", "vertex", "--graph", &graph, "name:a"],
    );
    assert_eq!(vertex["data"]["utf8"], "first", "{vertex}");

    // The held vertex cannot go: the refusal names the hyperedge.
    let error = refused(
        &node,
        &[
            "hypergraph",
            "vertex-remove",
            "--key",
            "dev:alice",
            "--graph",
            &graph,
            "--vertex",
            "name:a",
        ],
    );
    assert!(error.contains(&edge_key), "{error}");
    // Once the hyperedge is removed (its members read from the node), it can.
    json(
        &node,
        &[
            "hypergraph",
            "edge-remove",
            "--key",
            "dev:alice",
            "--graph",
            &graph,
            "--edge",
            "name:e",
        ],
    );
    json(
        &node,
        &[
            "hypergraph",
            "vertex-remove",
            "--key",
            "dev:alice",
            "--graph",
            &graph,
            "--vertex",
            "name:a",
        ],
    );
    let gone = json(
        &node,
        &["hypergraph", "vertex", "--graph", &graph, "name:a"],
    );
    assert_eq!(gone["found"], false, "{gone}");
    // A bad key is refused before anything is sent.
    let error = refused(&node, &["hypergraph", "vertex", "--graph", &graph, "0a"]);
    assert!(error.contains("VERTEX"), "{error}");
    assert!(node.terminate().success());
}

#[test]
fn compute_commands_deploy_the_counter_and_count_to_two() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path(), &[]);
    let wat = dir.path().join("counter.wat");
    std::fs::write(&wat, switchyard_compute::examples::COUNTER_WAT).unwrap();
    let app = json(
        &node,
        &[
            "compute",
            "deploy",
            "--key",
            "dev:alice",
            "--name",
            "counters",
        ],
    );
    let app = text(&app["app"]).to_owned();
    let code = json(
        &node,
        &[
            "compute",
            "code-deploy",
            "--key",
            "dev:alice",
            "--app",
            &app,
            "--wat",
            wat.to_str().unwrap(),
        ],
    );
    let code = text(&code["code"]).to_owned();
    assert_eq!(
        code,
        hex::encode(switchyard_compute::code_id(
            &switchyard_compute::examples::counter_module()
        ))
    );
    let counter = hex::encode(switchyard_compute::examples::COUNTER_KEY);
    for expected in [1u64, 2] {
        let run = json(
            &node,
            &[
                "compute",
                "exec",
                "--key",
                "dev:alice",
                "--app",
                &app,
                "--code",
                &code,
                "--function",
                "increment",
                "--write",
                &counter,
            ],
        );
        assert_eq!(run["output"]["u64"], expected, "{run}");
        assert_eq!(
            run["output"]["hex"],
            hex::encode(expected.to_le_bytes()),
            "{run}"
        );
        assert!(run["fuel_used"].as_u64().unwrap() > 0, "{run}");
    }
    let value = json(&node, &["compute", "get", "--app", &app, &counter]);
    assert_eq!(value["value"]["u64"], 2, "{value}");
    let (ok, shown, _) = cli(&node.grpc, &["compute", "get", "--app", &app, &counter]);
    assert!(ok);
    assert_eq!(shown.trim(), "0200000000000000 (u64 2)");
    let info = json(&node, &["compute", "code", "--app", &app, &code]);
    assert_eq!(
        info["exports"],
        serde_json::json!(["get", "increment"]),
        "{info}"
    );
    // A trap fails the execution: one line, non-zero exit, the reason named.
    let error = refused(
        &node,
        &[
            "compute",
            "exec",
            "--key",
            "dev:alice",
            "--app",
            &app,
            "--code",
            &code,
            "--function",
            "increment",
            "--input",
            "x",
        ],
    );
    assert!(error.contains("exec failed"), "{error}");
    assert!(node.terminate().success());
}

#[test]
fn prover_commands_show_the_dev_prover_and_a_second_key_joins() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path(), &[]);
    let filter = hex::encode(DEV_FILTER);
    let alice = json(&node, &["prover", "show", "dev:alice"]);
    assert_eq!(alice["registered"], true, "{alice}");
    assert_eq!(alice["filters"][0]["filter"], filter, "{alice}");
    assert_eq!(alice["filters"][0]["status"], "active", "{alice}");

    let joined = json(
        &node,
        &["prover", "join", "--key", "dev:bob", "--filter", &filter],
    );
    assert_eq!(
        joined["outcome"]["fee"], "0",
        "prover operations cost 0: {joined}"
    );
    let bob = json(&node, &["prover", "show", "dev:bob"]);
    assert_eq!(bob["filters"][0]["status"], "joining", "{bob}");
    // The dev registry opens the confirm window one frame after the join.
    json(&node, &["prover", "confirm", "--key", "dev:bob"]);
    let bob = json(&node, &["prover", "show", "dev:bob"]);
    assert_eq!(bob["filters"][0]["status"], "active", "{bob}");

    let active = json(&node, &["prover", "list", "--status", "active"]);
    let bob_key = hex::encode(dev_key("bob").unwrap().verifying_key().to_bytes());
    let alice_key = hex::encode(dev_key("alice").unwrap().verifying_key().to_bytes());
    let mut provers: Vec<&str> = active["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| text(&e["prover"]))
        .collect();
    provers.sort_unstable();
    let mut expected = vec![alice_key.as_str(), bob_key.as_str()];
    expected.sort_unstable();
    assert_eq!(provers, expected, "{active}");
    let on_filter = json(&node, &["prover", "filter", &filter]);
    assert_eq!(
        on_filter["entries"].as_array().unwrap().len(),
        2,
        "{on_filter}"
    );
    let config = json(&node, &["prover", "config"]);
    assert_eq!(config["confirm_min_delay"], 1, "{config}");
    // Joining twice is refused with the state machine's reason.
    let error = refused(
        &node,
        &["prover", "join", "--key", "dev:bob", "--filter", &filter],
    );
    assert!(error.contains("refused in status active"), "{error}");
    assert!(node.terminate().success());
}
