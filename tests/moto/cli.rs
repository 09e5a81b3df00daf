//! The verbs beyond plan, through the command line against moto: outputs, status,
//! saved plans and machine-readable progress.

use super::harness::{clients, unique_stack};
use super::plan::{run, seed};

const FIRST: &str = "registry.example.com/microservices/products:latest";
const SECOND: &str = "registry.example.com/microservices/products:2.0";

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn outputs_and_status_of_an_applied_stack() {
    let name = unique_stack("outputs");
    let (code, out, err) = run(&["outputs"], seed(&name, FIRST));
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains(&format!("stack {name} is not deployed in this account and region: run `apply` first")),
        "{err}"
    );

    let (code, out, err) = run(&["apply", "--auto-approve"], seed(&name, FIRST));
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = run(&["outputs", "--json"], seed(&name, FIRST));
    assert_eq!(code, 0, "{err}");
    let o = json(&out);
    let dns = o["dns_name"].as_str().expect("the load balancer's DNS name");
    assert!(!dns.is_empty());
    assert_eq!(o["url"], format!("http://{dns}/"));
    assert_eq!(o["scheme"], "internet-facing");
    assert_eq!(o["services"][0]["name"], "product-web");
    assert_eq!(o["services"][0]["url"], format!("http://{dns}/"));
    assert_eq!(o["services"][1]["url"], format!("http://{dns}/products"));
    assert_eq!(o["services"][1]["log_group"], format!("/ecs/{name}/products"));
    assert!(o["file_system_id"].as_str().unwrap().starts_with("fs-"), "{o}");
    let (code, out, _) = run(&["outputs"], seed(&name, FIRST));
    assert_eq!(code, 0);
    assert!(out.contains(&format!("\n  products             http://{dns}/products\n")), "{out}");

    let (code, out, err) = run(&["status", "--json"], seed(&name, FIRST));
    assert_eq!(code, 0, "{err}");
    let s = json(&out);
    let services = s["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    for svc in services {
        assert_eq!(svc["status"], "ACTIVE", "{svc}");
        assert_eq!((svc["desired"].as_u64(), svc["running"].as_u64()), (Some(2), Some(2)), "{svc}");
        let deployments = svc["deployments"].as_array().unwrap();
        assert_eq!(deployments.len(), 1, "{svc}");
        assert_eq!(deployments[0]["status"], "PRIMARY");
        assert!(svc["targets"].is_array() && svc["events"].is_array(), "{svc}");
    }
    let (code, out, _) = run(&["status"], seed(&name, FIRST));
    assert_eq!(code, 0);
    assert!(out.starts_with("product-web: stable (ACTIVE), 2 desired, 2 running, 0 pending\n"), "{out}");
    assert!(out.contains(&format!("  deployment PRIMARY  {name}-products:1  2/2 running")), "{out}");
}

#[test]
fn a_saved_plan_is_applied_exactly_and_refused_once_aws_changed() {
    let name = unique_stack("saved");
    let dir = std::env::temp_dir().join(format!("ecs-kit-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("plan.json");
    let path = file.to_str().unwrap();

    let (code, out, err) = run(&["plan", "--out", path, "--detailed-exitcode"], seed(&name, FIRST));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains(&format!("Saved the plan to {path}")), "{out}");
    // The declaration given to apply must be the one planned.
    let (code, _, err) = run(&["apply", path], seed(&name, SECOND));
    assert_eq!(code, 1);
    assert!(err.contains("task-definition/products: declared differently"), "{err}");
    assert!(err.contains("nothing was changed: run plan --out again"), "{err}");
    // No confirmation is asked for a saved plan: it was reviewed when it was made.
    let (code, out, err) = run(&["apply", path], seed(&name, FIRST));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("Apply: 41 done, 0 failed, 0 skipped.\n"), "{out}");

    // A plan saved, then AWS changed behind its back: refused, and nothing changes.
    let (code, _, err) = run(&["plan", "--out", path], seed(&name, SECOND));
    assert_eq!(code, 0, "{err}");
    let aws = clients();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(aws.logs.put_retention_policy(format!("/ecs/{name}/product-web"), 7)).unwrap();
    let (code, out, err) = run(&["apply", path], seed(&name, SECOND));
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("log-group/product-web: no-op then, update now"), "{err}");
    let stack = seed(&name, FIRST).build().unwrap();
    let plan = runtime.block_on(stack.plan(&aws)).unwrap();
    let changed: Vec<&str> =
        plan.changes.iter().filter(|c| c.action != ecs_kit::diff::Action::NoOp).map(|c| c.id.as_str()).collect();
    assert_eq!(changed, ["log-group/product-web"], "the image was not rolled out");

    // Garbage and other stacks' plans are refused with the reason.
    std::fs::write(&file, "{}").unwrap();
    let (code, _, err) = run(&["apply", path], seed(&name, FIRST));
    assert_eq!(code, 1);
    assert!(err.contains("not a saved plan of this ecs-kit"), "{err}");
    let (code, _, _) = run(&["plan", "--out", path], seed(&unique_stack("other"), FIRST));
    assert_eq!(code, 0);
    let (code, _, err) = run(&["apply", path], seed(&name, FIRST));
    assert_eq!(code, 1);
    assert!(err.contains("made for stack"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn apply_and_destroy_with_json_print_one_event_per_line() {
    let name = unique_stack("json");
    let (code, out, err) = run(&["apply", "--auto-approve", "--json"], seed(&name, FIRST));
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(json).collect();
    assert_eq!(lines[0]["event"], "plan");
    assert_eq!(lines[0]["plan"]["summary"]["add"], 41);
    let last = lines.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["done"].as_u64(), last["failed"].as_u64()),
        (Some("summary"), Some(41), Some(0))
    );
    let count = |kind: &str| lines.iter().filter(|l| l["event"] == kind).count();
    assert_eq!((count("started"), count("done")), (41, 41));
    assert!(count("waiting") >= 2, "the services' waits are reported: {out}");
    assert!(lines.iter().all(|l| l["event"] == "plan" || l["event"] == "summary" || l["t"].is_number()));

    let (code, out, err) = run(&["destroy", "--auto-approve", "--delete-data", "--json"], seed(&name, FIRST));
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(json).collect();
    assert_eq!(lines[0]["event"], "targets");
    assert_eq!(lines[0]["destroy"].as_array().unwrap().len(), 41);
    assert_eq!(lines.last().unwrap()["done"], 41);
}
